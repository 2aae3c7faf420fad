#!/usr/bin/env node
// The compiled program lives in dist/ (npm install builds it).
import { runFromProcess } from '../dist/src/cli/main.js';

await runFromProcess();
