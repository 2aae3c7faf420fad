import type { PredictionSource, Severity, Transfer, TransferCause } from '../model/ftp-model.js';

export type { TransferCause };

/**
 * The findings catalogue: every kind of finding ftpscope makes, the facts the FTP stage observed for it,
 * its severity, and its words in English and Chinese with the advice that goes with them. It is the only
 * place a finding's words live: the analyzer and the session say what they saw (kind and facts), never
 * prose. Each entry cites what it checks where a standard says so.
 */
export interface FindingFacts {
  /** Failed logins from one client within the window (counted across sessions). */
  'brute-force': { failures: number; client: string; server: string; spanSec: number; threshold: number; windowSec: number };
  /** A connection on a port not named as FTP's turned out to be FTP by its first lines. */
  'ftp-on-other-port': { port: number };
  /** Connections to an FTP port closed before either side said a word: no sessions (a scan, a flood, a server down). */
  'silent-control-connections': { connections: number; unanswered: number; refused: number; silent: number; servers: string[]; moreServers: number };
  /** A PORT, EPRT, LPRT argument or a 227, 228, 229 reply that does not parse (ftp/address.ts says why). */
  'bad-address': { source: PredictionSource; reason: string };
  /** An active-mode address other than the client's (RFC 2577 section 3: FTP bounce). */
  /**
   * A PORT/EPRT naming another host than the client, and what the server did: connected there (with the
   * bytes it sent or received), accepted it without a connection in the capture, refused it, or no reply.
   */
  'third-party': { source: PredictionSource; address: string; port: number; client: string; outcome: 'connected' | 'accepted' | 'refused' | 'unanswered'; code: number | null; bytes: number };
  /** A passive address that is not the server's, and the data connection came to the server's: a NAT that works. */
  'nat-passive-address': { source: PredictionSource; advertised: string; server: string; port: number };
  /** An active-mode port below 1024 (RFC 2577 section 3). */
  'privileged-port': { source: PredictionSource; port: number };
  /** A private PORT address sent to a public server. */
  'private-port-address': { source: PredictionSource; address: string; server: string };
  /** Predictions dropped for a cap (--max-predictions-per-session, --max-predictions). */
  'prediction-cap': { scope: 'session' | 'all'; limit: number };
  /** The memory budget (--max-memory, MiB) was reached: what was let go early or counted but not kept. */
  'memory-budget': { limitMiB: number; halfOpen: number; idle: number; exchanges: number; predictions: number; events: number; packets: number };
  /** Data that flowed against the command's direction on its data connection. */
  'wrong-direction': { command: string; path: string; upload: boolean; bytes: number };
  /** A password sent in clear; `password` only when it may be shown (--show-passwords). */
  'cleartext-credentials': { user: string; password: string | null; success: boolean };
  'anonymous-login': { user: string };
  /** Accepted commands of an anonymous user that changed the server (the first five shown). */
  'anonymous-write': { changes: string[]; more: number; uploads: number };
  'transfer-failed': TransferFacts;
  'transfer-aborted': TransferFacts;
  'transfer-incomplete': TransferFacts;
  'transfer-unfinished': TransferFacts;
  /** A connection between FTP hosts that nothing announced carried data. */
  /** `resumes`: its TLS ClientHello offered the encrypted session's TLS session ticket or id (evidence it is that session's). */
  'unpredicted-connection': { client: string; clientPort: number; server: string; serverPort: number; bytes: number; encryptedSession: number | null; resumes?: 'ticket' | 'session id' | null };
  /** Announced data connections never seen; `nat` when passive ones advertised another address than the server's. */
  'unused-prediction': { count: number; nat: { count: number; advertised: string; server: string } | null };
  'data-connection-unanswered': DataConnectionFacts;
  'data-connection-refused': DataConnectionFacts;
  /** Bytes of the control connection missing from the capture. */
  'control-gap': { bytes: number; commands: boolean; offset: number; reason: string };
  'not-ftp-command': { line: string };
  /** A command line cut to --max-line-length (`bytes`), or a verb too long to be one (`bytes` null). */
  'overlong-command': { verb: string; bytes: number | null; limit: number };
  /** RFC 2228 MIC, CONF or ENC: the commands are wrapped from here on. */
  'protected-commands': { verb: string };
  'site-exec': { argument: string };
  'too-many-pending-commands': { limit: number; oldest: string };
  'long-reply': { code: number; limit: number };
  /** A reply line cut to --max-line-length: its code when it starts with one, and its length as sent. */
  'overlong-reply': { code: number | null; bytes: number; limit: number };
  /** Another protocol's banner on the FTP port. */
  'not-ftp': { port: number; protocol: string; line: string };
  /** A line that is not a reply, or (`code`) a code outside 100-699. */
  'invalid-reply': { line: string; code: string | null };
  /**
   * A reply whose code the command table (src/ftp/commands.ts) does not list for its command, paired with it
   * by the order of replies (it was the oldest command waiting); `source` is where the table's list comes from.
   */
  'unusual-reply': { command: string; code: number; source: string };
  /** A multi-line reply never closed: a later plain reply closed it, or the connection ended inside it. */
  'unterminated-reply': { code: number; ended: boolean };
  /** AUTH accepted (RFC 4217): the control channel is encrypted from here on. */
  /** The control channel turned to TLS; `decrypted`: the key log lines that opened it, else `why` not. */
  tls: { command: string; decrypted: string | null; why: string | null; version: string | null; suite: string | null };
  /**
   * Without keys: the client of an encrypted session tried another host than its server, unanswered —
   * probably the data connection of an encrypted 227 that a NAT could not rewrite.
   */
  'ftps-nat': { client: string; address: string; port: number; server: string; syns: number; tls: string };
  /** A TLS record that failed authentication, or a direction that stopped being read. */
  'tls-problem': { connection: 'control' | 'data'; from: 'client' | 'server'; why: string };
  /** PROT P accepted (RFC 4217 section 9); `keyLog`: a key log was given, which opens the data connections it has lines for. */
  'protected-data': { keyLog: boolean };
  /** A live capture lost packets while the session was open (ftp-model's CaptureLoss); `transfers`: those open then. */
  'capture-loss': { lost: number; shed: number; transfers: number[] };
}

export type FindingKind = keyof FindingFacts;

/** A transfer that did not complete, or several of one session with the same status and cause. */
export interface TransferFacts {
  command: string;
  path: string;
  /** How many transfers share the status and cause (1: the one named). */
  transfers: number;
  /** The transfer's cause in both languages (describeCause). */
  cause: string;
  causeZh: string;
}

/** A predicted data connection tried but never established. */
export interface DataConnectionFacts {
  connector: 'client' | 'server';
  address: string;
  port: number;
  source: PredictionSource;
  setupFrame: number;
  /** SYNs sent (unanswered only). */
  tries: number;
  /** Why, as the capture shows it: NAT (advertised another address than the server's), passive, or active. */
  why: 'nat' | 'passive' | 'active';
  /** The server's address on the control connection. */
  server: string;
}

interface Entry<K extends FindingKind> {
  severity: Severity | ((f: FindingFacts[K]) => Severity);
  en: (f: FindingFacts[K]) => string;
  zh: (f: FindingFacts[K]) => string;
}

/** A line from the wire, quoted and cut to 80 characters. */
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

function transferEn(f: TransferFacts, status: string): string {
  const what = f.transfers === 1 ? `${f.command} ${f.path}` : `${f.transfers} transfers (the first: ${f.command} ${f.path})`;
  return `${what}: ${status}: ${f.cause}`;
}

function transferZh(f: TransferFacts, status: string): string {
  const what = f.transfers === 1 ? `${f.command} ${f.path}` : `${f.transfers} 次传输（第一次：${f.command} ${f.path}）`;
  return `${what}：${status}：${f.causeZh}`;
}

const STATUS_ZH: Record<string, string> = { failed: '失败', incomplete: '不完整', unfinished: '未结束', aborted: '中止' };

function dataConnectionEn(f: DataConnectionFacts, refused: boolean): string {
  const who = f.connector === 'client' ? 'the client' : 'the server';
  let why: string;
  if (f.why === 'nat') {
    why = `the 227 advertised ${f.address}, but the server on the control connection is ${f.server}: the server's passive address setting is wrong, or a NAT does not translate it; ${f.address} does not answer. Fix the server's passive address (vsftpd pasv_address, proftpd MasqueradeAddress), or let the client use the control connection's address (curl --ftp-skip-pasv-ip), or use active mode`;
  } else if (f.why === 'passive') {
    why = `nothing listens on ${f.address}:${f.port} for the client, or a firewall in between drops it; passive ports must be open on the server's firewall`;
  } else {
    why = `${f.address}:${f.port} is not reachable from the server: a firewall or NAT in front of the client blocks active mode; passive mode avoids it`;
  }
  return `${who} tried to open the data connection to ${f.address}:${f.port} (announced by ${f.source} in frame ${f.setupFrame}) ${refused ? 'and was refused (RST)' : `${f.tries} ${plural(f.tries, 'time', 'times')} and got no answer`}: ${why}`;
}

function dataConnectionZh(f: DataConnectionFacts, refused: boolean): string {
  const who = f.connector === 'client' ? '客户端' : '服务器';
  let why: string;
  if (f.why === 'nat') {
    why = `227 通告的地址是 ${f.address}，但控制连接上的服务器是 ${f.server}：服务器的被动模式地址设置错了，或者 NAT 没有改写它；${f.address} 没有应答。请改正服务器的被动地址（vsftpd 的 pasv_address，proftpd 的 MasqueradeAddress），或者让客户端使用控制连接的地址（curl --ftp-skip-pasv-ip），或者改用主动模式`;
  } else if (f.why === 'passive') {
    why = `${f.address}:${f.port} 上没有为客户端监听的程序，或者中间的防火墙丢弃了连接；服务器的防火墙必须放行被动模式的端口`;
  } else {
    why = `服务器连不到 ${f.address}:${f.port}：客户端前面的防火墙或 NAT 挡住了主动模式；改用被动模式可以避开`;
  }
  return `${who}试图建立到 ${f.address}:${f.port} 的数据连接（由第 ${f.setupFrame} 帧的 ${f.source} 通告），${refused ? '被拒绝（RST）' : `发了 ${f.tries} 次都没有应答`}：${why}`;
}

/** Every kind's severity and words. */
const CATALOGUE: { [K in FindingKind]: Entry<K> } = {
  'brute-force': {
    severity: 'alert',
    en: (f) => `${f.failures} failed logins from ${f.client} to ${f.server} within ${f.spanSec.toFixed(0)} s (threshold ${f.threshold} in ${f.windowSec} s, --brute-force-threshold/--brute-force-window): password guessing (the count is every failure from this client)`,
    zh: (f) => `${f.client} 到 ${f.server} 在 ${f.spanSec.toFixed(0)} 秒内登录失败 ${f.failures} 次（阈值：${f.windowSec} 秒内 ${f.threshold} 次，见 --brute-force-threshold 和 --brute-force-window）：有人在猜密码（计数包括这个客户端的每一次失败）`,
  },
  'silent-control-connections': {
    severity: (f) => (f.unanswered + f.refused >= 100 ? 'warning' : 'notice'),
    en: (f) => `${f.connections} ${plural(f.connections, 'connection', 'connections')} to an FTP port ended before either side said a word (no FTP session): ${[
      f.unanswered > 0 ? `${f.unanswered} SYN unanswered` : '',
      f.refused > 0 ? `${f.refused} refused (RST)` : '',
      f.silent > 0 ? `${f.silent} opened and closed in silence` : '',
    ].filter(Boolean).join(', ')}; ${plural(f.servers.length + f.moreServers, 'server', 'servers')} ${f.servers.join(', ')}${f.moreServers > 0 ? ` and ${f.moreServers} more` : ''}: a scan, a flood, or a server that is down`,
    zh: (f) => `${f.connections} 个到 FTP 端口的连接在双方开口之前就结束了（没有 FTP 会话）：${[
      f.unanswered > 0 ? `${f.unanswered} 个 SYN 没有应答` : '',
      f.refused > 0 ? `${f.refused} 个被拒绝（RST）` : '',
      f.silent > 0 ? `${f.silent} 个打开后一言不发就关闭了` : '',
    ].filter(Boolean).join('，')}；服务器 ${f.servers.join('、')}${f.moreServers > 0 ? ` 以及另外 ${f.moreServers} 台` : ''}：可能是扫描、洪泛，或者服务器宕机`,
  },
  'ftp-on-other-port': {
    severity: 'info',
    en: (f) => `FTP recognised on port ${f.port} by its first lines`,
    zh: (f) => `从开头几行认出了 ${f.port} 端口上的 FTP`,
  },
  'bad-address': {
    severity: 'warning',
    en: (f) => `${f.source} ${f.source.endsWith('RT') ? 'argument' : 'reply'} cannot be used: ${f.reason}`,
    zh: (f) => `${f.source} ${f.source.endsWith('RT') ? '命令的参数' : '应答'}无法使用：${f.reason}`,
  },
  'third-party': {
    severity: (f) => (f.outcome === 'connected' ? 'alert' : f.outcome === 'refused' ? 'notice' : 'warning'),
    en: (f) => `${f.source} asks the server to connect to ${f.address}:${f.port}, not to the client ${f.client}: a third-party transfer or an FTP bounce; ${{
      connected: `the server obeyed: it connected there${f.bytes > 0 ? ` and ${f.bytes} bytes went over that connection` : ''}. Servers should refuse PORT to other hosts (vsftpd port_promiscuous=NO, ProFTPD AllowForeignAddress off)`,
      accepted: `the server accepted it (${f.code}), but no connection to ${f.address}:${f.port} is in the capture`,
      refused: `the server refused it (${f.code}): it does not let PORT name another host`,
      unanswered: 'the server\'s answer is not in the capture',
    }[f.outcome]}`,
    zh: (f) => `${f.source} 要服务器连接 ${f.address}:${f.port}，而不是客户端 ${f.client}：这是第三方传输，或者 FTP 反弹攻击（bounce）；${{
      connected: `服务器照做了：它连到了那里${f.bytes > 0 ? `，那条连接上传了 ${f.bytes} 字节` : ''}。服务器应当拒绝指向其他主机的 PORT（vsftpd port_promiscuous=NO，ProFTPD AllowForeignAddress off）`,
      accepted: `服务器接受了它（${f.code}），但抓包里没有到 ${f.address}:${f.port} 的连接`,
      refused: `服务器拒绝了它（${f.code}）：它不允许 PORT 指向其他主机`,
      unanswered: '抓包里没有服务器的应答',
    }[f.outcome]}`,
  },
  'nat-passive-address': {
    severity: 'info',
    en: (f) => `the ${f.source} reply advertised ${f.advertised}, and the data connection came to ${f.server}, the server's address on the control connection: a NAT in front of the server translates the advertised address, and it works here (the server's passive address setting names its outside address: vsftpd pasv_address, ProFTPD MasqueradeAddress, Pure-FTPd -P)`,
    zh: (f) => `${f.source} 的应答通告了 ${f.advertised}，而数据连接来到了 ${f.server}，也就是控制连接上服务器的地址：服务器前面有 NAT 转换了通告的地址，并且在这里是通的（服务器的被动地址设置写的是它的外部地址：vsftpd pasv_address，ProFTPD MasqueradeAddress，Pure-FTPd -P）`,
  },
  'privileged-port': {
    severity: 'warning',
    en: (f) => `${f.source} names port ${f.port}, a privileged port where services listen (25 mail, 80 web ...): FTP bounce attacks use this to make the server talk to them`,
    zh: (f) => `${f.source} 指定了端口 ${f.port}，这是服务监听的特权端口（25 邮件、80 网页……）：FTP 反弹攻击就是借此让服务器去和这些服务对话`,
  },
  'private-port-address': {
    severity: 'warning',
    en: (f) => `${f.source} advertises ${f.address}, a private address, to a server on a public address (${f.server}): the client is behind NAT and the server cannot connect back unless the NAT rewrites PORT; passive mode avoids the problem`,
    zh: (f) => `${f.source} 向公网地址上的服务器（${f.server}）通告了私有地址 ${f.address}：客户端在 NAT 后面，除非 NAT 改写 PORT，服务器连不回来；被动模式可以避开这个问题`,
  },
  'memory-budget': {
    severity: 'warning',
    en: (f) => {
      const closed = [f.halfOpen > 0 ? `${f.halfOpen} half-open` : '', f.idle > 0 ? `${f.idle} idle` : ''].filter(Boolean);
      const counted = [
        f.exchanges > 0 ? `${f.exchanges} ${plural(f.exchanges, 'command', 'commands')}` : '',
        f.predictions > 0 ? `${f.predictions} announced data ${plural(f.predictions, 'connection', 'connections')}` : '',
        f.events > 0 ? `${f.events} timeline ${plural(f.events, 'event', 'events')}` : '',
        f.packets > 0 ? `${f.packets} ${plural(f.packets, 'packet', 'packets')}` : '',
      ].filter(Boolean);
      return `the memory budget (--max-memory ${f.limitMiB} MiB) was reached: ${[
        closed.length > 0 ? `${closed.join(' and ')} ${plural(f.halfOpen + f.idle, 'connection was', 'connections were')} closed early (oldest first)` : '',
        counted.length > 0 ? `${counted.join(', ')} ${plural(f.exchanges + f.predictions + f.events + f.packets, 'was', 'were')} counted but not kept` : '',
      ].filter(Boolean).join('; ')}; a larger --max-memory keeps them`;
    },
    zh: (f) => {
      const closed = [f.halfOpen > 0 ? `${f.halfOpen} 个半开连接` : '', f.idle > 0 ? `${f.idle} 个空闲连接` : ''].filter(Boolean);
      const counted = [
        f.exchanges > 0 ? `${f.exchanges} 条命令` : '',
        f.predictions > 0 ? `${f.predictions} 个通告的数据连接` : '',
        f.events > 0 ? `${f.events} 个时间线事件` : '',
        f.packets > 0 ? `${f.packets} 个数据包` : '',
      ].filter(Boolean);
      return `达到了内存预算（--max-memory ${f.limitMiB} MiB）：${[
        closed.length > 0 ? `${closed.join('和')}被提前关闭（最早的先关）` : '',
        counted.length > 0 ? `${counted.join('、')}只计数、未保留` : '',
      ].filter(Boolean).join('；')}；调大 --max-memory 即可保留`;
    },
  },
  'prediction-cap': {
    severity: 'notice',
    en: (f) => f.scope === 'session'
      ? `more than ${f.limit} data connections announced and still awaited in one session: the oldest are no longer matched (a limit against memory exhaustion; see --max-predictions-per-session)`
      : `more than ${f.limit} data connections awaited in all: the oldest are no longer matched`,
    zh: (f) => f.scope === 'session'
      ? `一个会话中通告后仍在等待的数据连接超过 ${f.limit} 个：最早的不再匹配（这是防止耗尽内存的上限；见 --max-predictions-per-session）`
      : `总共在等待的数据连接超过 ${f.limit} 个：最早的不再匹配`,
  },
  'wrong-direction': {
    severity: 'warning',
    en: (f) => `${f.command} ${f.path}: its data should flow ${f.upload ? 'from the client to the server' : 'from the server to the client'}, but ${f.bytes} bytes went the other way on its data connection`,
    zh: (f) => `${f.command} ${f.path}：数据应当${f.upload ? '从客户端流向服务器' : '从服务器流向客户端'}，但它的数据连接上有 ${f.bytes} 字节走了相反的方向`,
  },
  'cleartext-credentials': {
    severity: 'notice',
    en: (f) => `user "${f.user}" sent a password in clear text${f.password === null ? ' (--show-passwords shows it)' : ` ("${f.password}")`}; the login ${f.success ? 'succeeded' : 'failed'}: anyone on the path can read it; FTPS (AUTH TLS) or SFTP would protect it`,
    zh: (f) => `用户“${f.user}”以明文发送了密码${f.password === null ? '（加 --show-passwords 可以显示）' : `（“${f.password}”）`}；登录${f.success ? '成功' : '失败'}：传输路径上的任何人都能读到它；FTPS（AUTH TLS）或 SFTP 可以保护它`,
  },
  'anonymous-login': {
    severity: 'info',
    en: (f) => `anonymous login as "${f.user}"`,
    zh: (f) => `以“${f.user}”匿名登录`,
  },
  'anonymous-write': {
    severity: 'warning',
    en: (f) => `an anonymous user changed the server: ${f.changes.join(', ')}${f.more > 0 ? ` and ${f.more} more` : ''}${f.uploads > 0 ? ` (${f.uploads} ${plural(f.uploads, 'upload', 'uploads')})` : ''}: anonymous write access lets anyone store files there`,
    zh: (f) => `匿名用户修改了服务器：${f.changes.join('、')}${f.more > 0 ? `，另外还有 ${f.more} 条` : ''}${f.uploads > 0 ? `（上传 ${f.uploads} 个文件）` : ''}：匿名写权限让任何人都能往那里存文件`,
  },
  'transfer-failed': { severity: 'warning', en: (f) => transferEn(f, 'failed'), zh: (f) => transferZh(f, STATUS_ZH.failed!) },
  'transfer-aborted': { severity: 'notice', en: (f) => transferEn(f, 'aborted'), zh: (f) => transferZh(f, STATUS_ZH.aborted!) },
  'transfer-incomplete': { severity: 'notice', en: (f) => transferEn(f, 'incomplete'), zh: (f) => transferZh(f, STATUS_ZH.incomplete!) },
  'transfer-unfinished': { severity: 'notice', en: (f) => transferEn(f, 'unfinished'), zh: (f) => transferZh(f, STATUS_ZH.unfinished!) },
  'unpredicted-connection': {
    severity: 'info',
    en: (f) => `connection ${f.client}:${f.clientPort} -> ${f.server}:${f.serverPort} between FTP hosts carried ${f.bytes} bytes: ${f.encryptedSession === null
      ? 'no PORT, EPRT, 227 or 229 in the capture announced it'
      : f.resumes
        ? `a data connection of session ${f.encryptedSession}, whose commands are encrypted: its TLS handshake resumes that session's TLS session (the same ${f.resumes}), as FTPS servers require of data connections`
        : `probably a data connection of session ${f.encryptedSession}, whose commands are encrypted (its PASV or PORT cannot be read)`}`,
    zh: (f) => `FTP 主机之间的连接 ${f.client}:${f.clientPort} -> ${f.server}:${f.serverPort} 传了 ${f.bytes} 字节：${f.encryptedSession === null
      ? '抓包里没有任何 PORT、EPRT、227 或 229 通告过它'
      : f.resumes
        ? `这是会话 ${f.encryptedSession} 的数据连接，它的命令是加密的：它的 TLS 握手恢复了该会话的 TLS 会话（相同的${f.resumes === 'ticket' ? '会话票据' : '会话 ID'}），正如 FTPS 服务器对数据连接的要求`
        : `很可能是会话 ${f.encryptedSession} 的数据连接，它的命令是加密的（读不到它的 PASV 或 PORT）`}`,
  },
  'unused-prediction': {
    severity: (f) => (f.nat !== null ? 'warning' : 'notice'),
    en: (f) => `${f.count} announced data ${plural(f.count, 'connection was', 'connections were')} never seen: ${f.nat !== null
      ? `${f.nat.count} of them advertise ${f.nat.advertised}, but the server on the control connection is ${f.nat.server}: a NAT, or a wrong passive address setting on the server; the client may not reach ${f.nat.advertised}`
      : 'the data connections may have been filtered out of the capture, or never opened'}`,
    zh: (f) => `通告过的 ${f.count} 个数据连接一直没有出现：${f.nat !== null
      ? `其中 ${f.nat.count} 个通告的地址是 ${f.nat.advertised}，但控制连接上的服务器是 ${f.nat.server}：有 NAT，或者服务器的被动地址设置错了；客户端可能到不了 ${f.nat.advertised}`
      : '数据连接可能被抓包过滤掉了，或者根本没有建立'}`,
  },
  'data-connection-unanswered': { severity: 'warning', en: (f) => dataConnectionEn(f, false), zh: (f) => dataConnectionZh(f, false) },
  'data-connection-refused': { severity: 'warning', en: (f) => dataConnectionEn(f, true), zh: (f) => dataConnectionZh(f, true) },
  'control-gap': {
    severity: 'warning',
    en: (f) => `${f.bytes} bytes of the ${f.commands ? 'commands' : 'replies'} (from offset ${f.offset}) are not in the capture (${f.reason}): a ${f.commands ? 'command' : 'reply'} may be missing or cut`,
    zh: (f) => `${f.commands ? '命令' : '应答'}中有 ${f.bytes} 字节（从偏移 ${f.offset} 起）不在抓包里（${f.reason}）：可能少了或截断了一条${f.commands ? '命令' : '应答'}`,
  },
  'not-ftp-command': {
    severity: 'warning',
    en: (f) => `the client sent a line that is not an FTP command: ${quote(f.line)}`,
    zh: (f) => `客户端发来的一行不是 FTP 命令：${quote(f.line)}`,
  },
  'overlong-command': {
    severity: 'warning',
    en: (f) => (f.bytes !== null ? `a ${f.verb.slice(0, 16)} command of ${f.bytes} bytes was cut to ${f.limit}` : `a command word of ${f.verb.length} letters: ${quote(f.verb)}`),
    zh: (f) => (f.bytes !== null ? `一条 ${f.bytes} 字节的 ${f.verb.slice(0, 16)} 命令被截到 ${f.limit} 字节` : `一个 ${f.verb.length} 个字母的命令词：${quote(f.verb)}`),
  },
  'protected-commands': {
    severity: 'info',
    en: (f) => `from here on the commands are sent ${f.verb === 'MIC' ? 'integrity-protected' : 'encrypted'} (RFC 2228 ${f.verb}): what they ask cannot be read, nor the addresses of their data connections`,
    zh: (f) => `从这里起命令以${f.verb === 'MIC' ? '完整性保护' : '加密'}的形式发送（RFC 2228 ${f.verb}）：读不到它们的内容，也读不到数据连接的地址`,
  },
  'site-exec': {
    severity: 'alert',
    en: (f) => `SITE EXEC asks the server to run a program: ${quote(f.argument)}`,
    zh: (f) => `SITE EXEC 要服务器运行一个程序：${quote(f.argument)}`,
  },
  'too-many-pending-commands': {
    severity: 'notice',
    en: (f) => `more than ${f.limit} commands waiting for a reply: the oldest (${f.oldest}) is no longer paired`,
    zh: (f) => `等待应答的命令超过 ${f.limit} 条：最早的一条（${f.oldest}）不再配对`,
  },
  'long-reply': {
    severity: 'notice',
    en: (f) => `a ${f.code} reply runs over ${f.limit} lines: the rest is not kept`,
    zh: (f) => `一个 ${f.code} 应答超过了 ${f.limit} 行：其余的行没有保留`,
  },
  'overlong-reply': {
    severity: 'warning',
    en: (f) => `a ${f.code !== null ? `${f.code} ` : ''}reply line of ${f.bytes} bytes was cut to ${f.limit} (--max-line-length): no server needs a line that long, and clients with a fixed line buffer may overflow on it`,
    zh: (f) => `一行 ${f.bytes} 字节的${f.code !== null ? ` ${f.code} ` : ''}应答被截到 ${f.limit} 字节（--max-line-length）：正常的服务器用不着这么长的一行，行缓冲区固定的客户端可能因此溢出`,
  },
  'not-ftp': {
    severity: 'alert',
    en: (f) => `the server on port ${f.port} speaks ${f.protocol}, not FTP: ${quote(f.line)} — a service hidden behind the FTP port, or a port redirected elsewhere`,
    zh: (f) => `${f.port} 端口上的服务器说的是 ${f.protocol}，不是 FTP：${quote(f.line)}——FTP 端口后面藏着别的服务，或者端口被转发到了别处`,
  },
  'invalid-reply': {
    severity: 'warning',
    en: (f) => (f.code !== null ? `reply code ${f.code} is outside 100-699: ${quote(f.line)}` : `the server sent a line that is not an FTP reply: ${quote(f.line)}`),
    zh: (f) => (f.code !== null ? `应答码 ${f.code} 不在 100-699 之间：${quote(f.line)}` : `服务器发来的一行不是 FTP 应答：${quote(f.line)}`),
  },
  'unusual-reply': {
    severity: 'info',
    en: (f) => `${f.command} was answered ${f.code}, a code ${f.source} does not list for it: taken as its reply by the order of replies (it was the oldest command waiting), so the replies after it keep their commands`,
    zh: (f) => `${f.command} 收到的应答码是 ${f.code}，${f.source} 没有为它列出这个应答码：按应答的顺序仍把它算作 ${f.command} 的应答（它是最早在等待的命令），所以后面的应答仍然对应各自的命令`,
  },
  'unterminated-reply': {
    severity: 'notice',
    en: (f) => (f.ended ? 'the connection ended inside a multi-line reply' : `a ${f.code}- multi-line reply was never closed`),
    zh: (f) => (f.ended ? '连接在一个多行应答的中间结束了' : `一个 ${f.code}- 多行应答一直没有结束`),
  },
  tls: {
    severity: 'info',
    en: (f) => {
      const what = f.version === null ? '' : ` (${f.version}, ${f.suite})`;
      if (f.decrypted !== null) return `${f.command} accepted: the control channel is encrypted from here on${what}; decrypted with the key log (${f.decrypted}), so its commands and replies are shown`;
      const why = f.why === 'no matching line' ? ': the key log has no line for its client random' : f.why === 'suite not supported' ? ': its cipher suite is not one ftpscope decrypts' : f.why === 'no key log' ? ' (--tls-keylog with the client\'s SSLKEYLOGFILE would show them)' : ` (${f.why})`;
      return `${f.command} accepted: from here on the control channel is encrypted${what}; its commands and replies cannot be seen${why}`;
    },
    zh: (f) => {
      const what = f.version === null ? '' : `（${f.version}，${f.suite}）`;
      if (f.decrypted !== null) return `${f.command} 被接受：从这里起控制通道是加密的${what}；已用密钥日志（${f.decrypted}）解密，所以能看到它的命令和应答`;
      const why = f.why === 'no matching line' ? '：密钥日志中没有与它的客户端随机数对应的行' : f.why === 'suite not supported' ? '：ftpscope 不能解密它的密码套件' : f.why === 'no key log' ? '（用 --tls-keylog 给出客户端的 SSLKEYLOGFILE 就能看到）' : `（${f.why}）`;
      return `${f.command} 被接受：从这里起控制通道是加密的${what}；看不到它的命令和应答${why}`;
    },
  },
  'ftps-nat': {
    severity: 'warning',
    en: (f) =>
      `the client ${f.client} of an encrypted session (${f.tls}) tried ${f.address}:${f.port}, not its server ${f.server}, and got no answer (${f.syns} SYN${f.syns === 1 ? '' : 's'}): probably the data connection of a passive reply ftpscope cannot read, announcing an address the client cannot reach — the classic FTPS-behind-NAT failure: a NAT or firewall rewrites the address of a 227 in clear, but not inside TLS. Set the server's passive address to the one clients reach (vsftpd pasv_address, proftpd MasqueradeAddress), open its passive port range on the firewall, or let the client send CCC after login; --tls-keylog would show the 227 itself`,
    zh: (f) =>
      `加密会话（${f.tls}）的客户端 ${f.client} 试图连接 ${f.address}:${f.port}，而不是它的服务器 ${f.server}，但没有得到应答（${f.syns} 个 SYN）：这很可能是 ftpscope 读不到的被动模式应答所通告的数据连接，它给出的地址客户端连不到——这是典型的“NAT 后面的 FTPS”故障：NAT 或防火墙能改写明文 227 中的地址，却改写不了 TLS 里面的。请把服务器的被动地址设成客户端能到达的地址（vsftpd 的 pasv_address，proftpd 的 MasqueradeAddress），在防火墙上开放它的被动端口范围，或者让客户端在登录后发送 CCC；用 --tls-keylog 可以看到 227 本身`,
  },
  'tls-problem': {
    severity: 'warning',
    en: (f) => `TLS on the ${f.connection} connection, from the ${f.from}: ${f.why}`,
    zh: (f) => `${f.connection === 'control' ? '控制连接' : '数据连接'}上${f.from === 'client' ? '客户端' : '服务器'}发出的 TLS：${f.why}`,
  },
  'protected-data': {
    severity: 'info',
    en: (f) => f.keyLog
      ? 'PROT P accepted: the data connections are TLS-protected; the key log opens those it has secrets for, and their files are seen and extracted as in clear'
      : 'PROT P accepted: the data connections are TLS-protected; their content cannot be seen or extracted (--tls-keylog would open them)',
    zh: (f) => f.keyLog
      ? 'PROT P 被接受：数据连接受 TLS 保护；密钥日志中有密钥的连接会被解密，其中的文件可以像明文一样查看和提取'
      : 'PROT P 被接受：数据连接受 TLS 保护；看不到、也提取不了它们的内容（用 --tls-keylog 可以解密）',
  },
  'capture-loss': {
    severity: 'warning',
    en: (f) => `the live capture lost packets while this session was open: ${[
      f.lost > 0 ? `${f.lost} ${plural(f.lost, 'packet', 'packets')} dropped (the kernel's buffer or ftpscope's backlog was full), any of which may have been this session's` : '',
      f.shed > 0 ? `${f.shed} data ${plural(f.shed, 'packet', 'packets')} cut to ${plural(f.shed, 'its', 'their')} headers while the analysis caught up` : '',
    ].filter(Boolean).join('; ')}; its commands, replies${f.transfers.length > 0 ? ` and ${plural(f.transfers.length, 'transfer', 'transfers')} ${f.transfers.join(', ')}` : ''} may be incomplete: a larger --buffer-size or --max-backlog, or a --filter that leaves out other traffic, helps`,
    zh: (f) => `实时抓包在这个会话进行期间丢了包：${[
      f.lost > 0 ? `丢弃了 ${f.lost} 个包（内核缓冲区或 ftpscope 的积压已满），其中任何一个都可能属于这个会话` : '',
      f.shed > 0 ? `为了让分析追上，${f.shed} 个数据包只保留了包头` : '',
    ].filter(Boolean).join('；')}；它的命令、回复${f.transfers.length > 0 ? `和传输 ${f.transfers.join('、')}` : ''}可能不完整：加大 --buffer-size 或 --max-backlog，或用 --filter 滤掉其他流量，会有帮助`,
  },
};

/** What a finding says, in both languages, and how severe it is. */
export function describeFinding<K extends FindingKind>(kind: K, facts: FindingFacts[K]): { severity: Severity; message: string; messageZh: string } {
  const e = CATALOGUE[kind] as Entry<K>;
  return {
    severity: severityOf(kind, facts),
    message: e.en(facts),
    messageZh: e.zh(facts),
  };
}

/** A finding's severity alone (cheap: no words made). */
export function severityOf<K extends FindingKind>(kind: K, facts: FindingFacts[K]): Severity {
  const e = CATALOGUE[kind] as Entry<K>;
  return typeof e.severity === 'function' ? e.severity(facts) : e.severity;
}

/** Every kind of finding, in the catalogue's order. */
export const FINDING_KINDS = Object.keys(CATALOGUE) as FindingKind[];

function endEn(end: Transfer['dataEnd']): string {
  if (end === null) return 'whose end is not in the capture';
  if (end.how === 'open') return 'which was still open at the end of the capture';
  if (end.how === 'rst') return `which the ${end.by} reset (RST)`;
  return end.by === 'both' ? 'which both sides then closed (FIN)' : `which the ${end.by} closed (FIN)`;
}

function endZh(end: Transfer['dataEnd']): string {
  const who = (by: string | null) => (by === 'client' ? '客户端' : by === 'server' ? '服务器' : '双方');
  if (end === null) return '抓包里没有它的结束';
  if (end.how === 'open') return '抓包结束时它仍然打开';
  if (end.how === 'rst') return `随后${who(end.by)}重置了它（RST）`;
  return `随后${who(end.by)}关闭了它（FIN）`;
}

/** A transfer's cause in English and Chinese: the catalogue's words, as for findings. */
export function describeCause(c: TransferCause): { en: string; zh: string } {
  switch (c.kind) {
    case 'no-final-reply':
      return c.connection
        ? { en: 'no final reply in the capture', zh: '抓包里没有最终应答' }
        : { en: 'no final reply and no data connection in the capture', zh: '抓包里既没有最终应答，也没有数据连接' };
    case 'no-data-connection-seen':
      return {
        en: 'the server reports success, but the data connection is not in the capture (a capture filter on port 21, or another path)',
        zh: '服务器报告成功，但抓包里没有数据连接（抓包过滤只留了 21 端口，或者数据走了别的路径）',
      };
    case 'bytes-missing': {
      const at = c.firstAt === null ? '' : ` (the first at offset ${c.firstAt})`;
      return { en: `${c.bytes} bytes of the data are not in the capture${at}`, zh: `数据中有 ${c.bytes} 字节不在抓包里${c.firstAt === null ? '' : `（第一个在偏移 ${c.firstAt}）`}` };
    }
    case 'short': {
      const rest = c.restOffset ? `, less the REST offset ${c.restOffset}` : '';
      const restZh = c.restOffset ? `，减去 REST 偏移 ${c.restOffset}` : '';
      return {
        en: `${c.bytes} of the ${c.expected} bytes announced (SIZE or the 150 reply${rest}) came over the data connection, ${endEn(c.end)}`,
        zh: `宣告的 ${c.expected} 字节（SIZE 或 150 应答${restZh}）中只有 ${c.bytes} 字节经数据连接传来，${endZh(c.end)}`,
      };
    }
    case 'client-abor': {
      const of = c.expected === null ? '' : ` of ${c.expected}`;
      return {
        en: `the client aborted it with ABOR (frame ${c.frame}) after ${c.bytes}${of} bytes${c.code === null ? '' : `; the server answered ${c.code}`}`,
        zh: `客户端用 ABOR（第 ${c.frame} 帧）中止了它，此前传了 ${c.bytes}${c.expected === null ? '' : ` / ${c.expected}`} 字节${c.code === null ? '' : `；服务器应答 ${c.code}`}`,
      };
    }
    case 'client-reset': {
      const of = c.expected === null ? '' : ` of ${c.expected}`;
      const late = c.afterReset > 0 ? ` (${c.afterReset} more, already on their way, came after it)` : '';
      const lateZh = c.afterReset > 0 ? `（之后还有 ${c.afterReset} 字节已在路上，也到达了）` : '';
      return {
        en: `the client reset the data connection (RST) after ${c.bytes}${of} bytes${late}${c.code === null ? '' : `; the server answered ${c.code}`}`,
        zh: `客户端在传了 ${c.bytes}${c.expected === null ? '' : ` / ${c.expected}`} 字节后重置了数据连接（RST）${lateZh}${c.code === null ? '' : `；服务器应答 ${c.code}`}`,
      };
    }
    case 'no-port-or-pasv':
      return {
        en: `no PORT, EPRT, PASV or EPSV was sent before it, so there was no data connection to open (${c.code})`,
        zh: `在它之前没有发送 PORT、EPRT、PASV 或 EPSV，所以没有可以打开的数据连接（${c.code}）`,
      };
    case 'refused':
      return { en: `refused by the server (${c.code})`, zh: `被服务器拒绝（${c.code}）` };
    case 'active-unreachable':
      return {
        en: `the server could not connect to ${c.address}:${c.port} (425): a firewall or NAT in front of the client blocks active mode; passive mode would avoid it`,
        zh: `服务器连不上 ${c.address}:${c.port}（425）：客户端前面的防火墙或 NAT 挡住了主动模式；改用被动模式可以避开`,
      };
    case 'passive-never-came':
      return {
        en: `the data connection to ${c.address}:${c.port} never came (425)${c.server !== null ? `: the server advertised ${c.address}, not its own address ${c.server}` : ''}`,
        zh: `到 ${c.address}:${c.port} 的数据连接一直没有来（425）${c.server !== null ? `：服务器通告的是 ${c.address}，而不是它自己的地址 ${c.server}` : ''}`,
      };
    case 'no-data-connection':
      return { en: `the server could not open the data connection (${c.code})`, zh: `服务器无法打开数据连接（${c.code}）` };
    case 'aborted':
      return { en: `the data connection was closed and the transfer aborted (${c.code})`, zh: `数据连接被关闭，传输中止（${c.code}）` };
    case 'local-error':
      return { en: `the server hit a local error (${c.code})`, zh: `服务器遇到本地错误（${c.code}）` };
    case 'no-room':
      return { en: `no room on the server (${c.code})`, zh: `服务器上没有空间了（${c.code}）` };
    case 'answered':
      return { en: `the server answered ${c.code}${c.message ? `: ${c.message}` : ''}`, zh: `服务器应答 ${c.code}${c.message ? `：${c.message}` : ''}` };
    case 'port-refused': {
      const reply = c.reply ? ` (${c.reply.code} ${c.reply.message})` : '';
      return {
        en: `the server refused the ${c.source} to ${c.address}:${c.port}${reply}, so it had nowhere to connect (${c.code})`,
        zh: `服务器拒绝了到 ${c.address}:${c.port} 的 ${c.source}${c.reply ? `（${c.reply.code} ${c.reply.message}）` : ''}，所以它无处可连（${c.code}）`,
      };
    }
  }
}

