/**
 * The model's named values in words, one table per language, so that every view says a status, a mode or a
 * severity the same way (the walkthrough, the timeline, the summary and the ladder read them from here).
 */
import type { FtpSession, Severity, Transfer, TransferStatus } from '../model/ftp-model.js';
import type { Lang } from './context.js';

export interface Vocab {
  severity: Record<Severity, string>;
  status: Record<TransferStatus, string>;
  mode: Record<Transfer['mode'], string>;
  direction: Record<Transfer['direction'], string>;
  login: Record<FtpSession['login'], string>;
  /** How a data connection was found (Transfer.rule; null: none was). */
  rule: Record<NonNullable<Transfer['rule']>, string>;
  noRule: string;
}

export const VOCAB: Record<Lang, Vocab> = {
  en: {
    severity: { info: 'info', notice: 'notice', warning: 'warning', alert: 'alert' },
    status: { complete: 'complete', incomplete: 'incomplete', aborted: 'aborted', failed: 'failed', unfinished: 'unfinished', refused: 'refused' },
    mode: { active: 'active', passive: 'passive', unknown: 'unknown' },
    direction: { download: 'download', upload: 'upload', listing: 'listing' },
    login: { success: 'logged in', failure: 'login failed', unknown: 'login unknown', none: 'no login seen' },
    rule: { advertised: 'advertised', 'control-peer': 'control-peer', unpredicted: 'unpredicted' },
    noRule: '-',
  },
  zh: {
    severity: { info: '信息', notice: '注意', warning: '警告', alert: '警报' },
    status: { complete: '完整', incomplete: '不完整', aborted: '已中止', failed: '失败', unfinished: '未结束', refused: '被拒绝' },
    mode: { active: '主动', passive: '被动', unknown: '未知' },
    direction: { download: '下载', upload: '上传', listing: '列表' },
    login: { success: '登录成功', failure: '登录失败', unknown: '登录结果未知', none: '未见登录' },
    rule: { advertised: '通告的地址', 'control-peer': '控制连接的对端', unpredicted: '仅凭时间' },
    noRule: '-',
  },
};
