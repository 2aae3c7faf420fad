/**
 * Headless Chromium driven through the DevTools protocol over a pipe (--remote-debugging-pipe: JSON
 * messages ended by a NUL byte, written to the browser's fd 3 and read from its fd 4), so that a test can
 * load a page, press keys, read the DOM and take screenshots with no WebSocket client and no npm package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The Chromium binary on the PATH, or null (then the browser tests skip, saying so). */
export function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return null;
}

export class Browser {
  private readonly child: ChildProcess;
  private readonly profile: string;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<(method: string, params: Record<string, unknown>, session?: string) => void> = [];
  private buffer = '';
  private session: string | null = null;

  constructor(binary: string) {
    this.profile = mkdtempSync(join(tmpdir(), 'ftpscope-chromium-'));
    this.child = spawn(binary, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars', '--remote-debugging-pipe', `--user-data-dir=${this.profile}`, '--window-size=1400,900', 'about:blank'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
      // Its own temporary files in the profile, removed with it.
      env: { ...process.env, TMPDIR: this.profile },
    });
    const out = this.child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
        const message = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined) {
          const w = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          if (message.error !== undefined) w?.reject(new Error(message.error.message));
          else w?.resolve(message.result ?? {});
        } else if (message.method !== undefined) for (const l of this.listeners) l(message.method, message.params ?? {}, message.sessionId);
      }
    });
  }

  /** Sends a command (to the page once one is open) and resolves to its result. */
  send(method: string, params: Record<string, unknown> = {}, toBrowser = false): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const message = { id, method, params, ...(toBrowser || this.session === null ? {} : { sessionId: this.session }) };
    (this.child.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.waiting.delete(id)) reject(new Error(`${method}: no answer from Chromium in 30 s`));
      }, 30_000).unref();
    });
  }

  /** Opens `url` in a new page and waits for its load event. */
  async open(url: string): Promise<void> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' }, true);
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true }, true);
    this.session = sessionId as string;
    await this.send('Page.enable');
    const loaded = new Promise<void>((resolve) => this.listeners.push((m, _p, s) => m === 'Page.loadEventFired' && s === this.session && resolve()));
    await this.send('Page.navigate', { url });
    await loaded;
  }

  /** The value of a JavaScript expression in the page. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    const exception = r.exceptionDetails as { text?: string; exception?: { description?: string } } | undefined;
    if (exception !== undefined) throw new Error(`in the page: ${exception.exception?.description ?? exception.text}`);
    return (r.result as { value: T }).value;
  }

  /** A key pressed and released, as the keyboard sends it. */
  async key(key: string, code = key, keyCode = 0): Promise<void> {
    await this.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code, windowsVirtualKeyCode: keyCode });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code, windowsVirtualKeyCode: keyCode });
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Buffer> {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    return Buffer.from(data as string, 'base64');
  }

  async close(): Promise<void> {
    try {
      await this.send('Browser.close', {}, true);
    } catch {
      // Gone already.
    }
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
