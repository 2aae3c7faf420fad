/**
 * The walkthrough's words in Simplified Chinese: the same explanations as `en` in messages.ts, in the
 * vocabulary Chinese FTP teaching material uses (控制连接/数据连接, 三次握手, 四次挥手 with the textbook's 四次断开, 主动模式/被动模式, FTP 反弹攻击).
 * Numbers, ports, addresses, paths, command names and reply codes are kept exactly as passed in (wire
 * text comes in already escaped); full-width punctuation inside Chinese sentences, ASCII inside
 * technical tokens, and a space between Chinese and an ASCII token.
 */
import type { Severity } from '../model/ftp-model.js';
import { VOCAB } from './vocab.js';
import { USER_COMMANDS, backsOff, isSequential, type Announcement, type CommandDetail, type Messages, type Repeated, type ReplyDetail, type Side, type TransferWhat } from './messages.js';

function repeatedZh(r: Repeated | undefined): string {
  if (r === undefined) return '';
  const parts: string[] = [];
  if (r.retransmitted > 0) parts.push(`其中 ${r.retransmitted} 个是重传（重发了 ${r.retransmittedBytes} 字节）`);
  if (r.outOfOrder > 0) parts.push(`${r.outOfOrder} 个乱序`);
  return parts.length > 0 ? `，${parts.join('，')}` : '';
}

/** 每一种 TLS 握手消息，一句话说明（RFC 8446 第 4 节，RFC 5246 第 7.4 节）。 */
const TLS_ZH: Record<string, (from: Side, version: string | null) => string> = {
  ClientHello: () => 'ClientHello：客户端能用的 TLS 版本和密码套件、它的随机数，以及它要访问的服务器名。',
  ServerHello: (_f, v) => `ServerHello：服务器选定的版本${v !== null ? `（${v}）` : ''}和密码套件，以及它的随机数。${v === 'TLS 1.3' ? '在它之后的一切都是加密的，包括握手的其余部分。' : ''}`,
  EncryptedExtensions: () => 'EncryptedExtensions：服务器其余的选择，已经加密。',
  Certificate: (f) => (f === 'server' ? 'Certificate：服务器的身份证明，由为它担保的机构签名。' : 'Certificate：服务器要求时客户端给出的证书（常常是空的）。'),
  ServerKeyExchange: () => 'ServerKeyExchange：服务器的密钥交换参数，用证书的私钥签名。',
  CertificateRequest: () => 'CertificateRequest：服务器要求客户端出示证书。',
  ServerHelloDone: () => 'ServerHelloDone：服务器要说的都说完了。',
  ClientKeyExchange: () => 'ClientKeyExchange：客户端的密钥交换参数；双方由此算出相同的密钥。',
  CertificateVerify: (f) => `CertificateVerify：对到此为止的握手内容的签名，证明${f === 'server' ? '服务器' : '客户端'}持有证书的私钥。`,
  ChangeCipherSpec: (_f, v) => (v === 'TLS 1.3' ? 'ChangeCipherSpec：TLS 1.3 只为中间设备发送的记录，不起任何作用。' : 'ChangeCipherSpec：从这里起，这一方的记录都是加密的。'),
  Finished: () => 'Finished：对整个握手过程的消息认证码，证明双方看到的消息相同、持有的密钥相同。',
  NewSessionTicket: () => 'NewSessionTicket：一张票据，以后可以不经完整握手就恢复这个 TLS 会话（FTPS 的数据连接就用它）。',
  KeyUpdate: () => 'KeyUpdate：发送方从这里起换用新的密钥。',
};

const side = (s: Side) => (s === 'client' ? '客户端' : s === 'server' ? '服务器' : '第三方主机');
const otherSide = (s: Side) => (s === 'client' ? '服务器' : '客户端');

/** A space before a value that starts with an ASCII character, when it follows Chinese text. */
const sp = (s: string) => (/^[\x21-\x7e]/.test(s) ? ` ${s}` : s);
/** Wire text closing a sentence: a full stop unless the text already ends with one. */
const last = (text: string) => (/[.!?。！？]$/.test(text) ? text : `${text}。`);

export const zh: Messages = {
  words: {
    lang: 'zh',
    frameAt: (n) => `第 ${n} 帧`,
    framesAt: (a, b) => `第 ${a}-${b} 帧`,
    client: '客户端',
    server: '服务器',
    third: '第三方主机',
    bytes: (n) => `${n} 字节`,
    data: '数据',
    noPackets: '（没有记录到数据包）',
    logFull: (frame) => `（数据包记录在第 ${frame} 帧已满：之后的数据包不再显示）`,
  },
  title: (session, client, server) => `FTP 会话 ${session}：客户端 ${client}，服务器 ${server}`,
  side,
  connection: (role, command) => (role === 'control' ? '控制连接' : command ? `用于 ${command} 的数据连接` : '数据连接'),

  handshake1Control: (clientPort, serverPort) =>
    `TCP 三次握手之第一次：客户端从一个临时端口（${clientPort}）向服务器的端口 ${serverPort}${serverPort === 21 ? '（FTP 的控制端口）' : ' '}发起控制连接。这个 SYN 就是建立连接的请求。`,
  handshake1DataPassive: (clientPort, serverPort, by, elsewhere) =>
    elsewhere == null
      ? `TCP 三次握手之第一次：客户端从自己的端口 ${clientPort} 连接服务器的端口 ${serverPort}${announced('服务器', by)}，建立数据连接（被动模式）。`
      : `TCP 三次握手之第一次：客户端从自己的端口 ${clientPort} 连接 ${elsewhere.address} 的端口 ${serverPort}${announced('服务器', by)}，建立数据连接（被动模式）。这是服务器通告的地址，而不是控制连接上服务器自己的地址（${elsewhere.server}）：只有途中的 NAT 转换了这个地址，连接才能到达服务器。`,
  handshake1DataActive: (serverPort, clientPort, by, from20, third) =>
    third !== null
      ? `TCP 三次握手之第一次：服务器从自己的端口 ${serverPort} 连接 ${third} 的端口 ${clientPort}${announced('客户端', by)}——那是第三方主机，不是客户端——建立数据连接（主动模式）。服务器照做了指向其他主机的 PORT：这是 FTP 反弹攻击（bounce），或者第三方传输。`
      : `TCP 三次握手之第一次：服务器从自己的端口 ${serverPort} 主动连接客户端的端口 ${clientPort}${announced('客户端', by)}，建立数据连接（主动模式）。${from20 ? '' : '注意：这次连接并非来自端口 20——主动模式下服务器可以从任意端口发起数据连接。'}`,
  handshake2: (conn, from) => `TCP 三次握手之第二次：${side(from)}同意建立${conn}，它发出的 SYN,ACK 既确认了对方的 SYN，也带上了自己的 SYN。`,
  handshake3: (conn, from) => `TCP 三次握手之第三次：${side(from)}发送 ACK 进行确认，${conn}建立完成。`,

  teardown1: (conn, from) => `TCP 四次挥手之第一次：${side(from)}在${conn}上要发送的内容已全部发完，发送 FIN 关闭自己这一方向。`,
  teardown2: (conn, from) => `TCP 四次挥手之第二次：${side(from)}确认对方的 FIN，${conn}进入半关闭状态（另一方仍然可以继续发送）。`,
  teardown3: (conn, from) => `TCP 四次挥手之第三次：${side(from)}也发送 FIN，关闭${conn}中自己这一方向。`,
  teardown2and3: (conn, from) => `TCP 四次挥手之第二次和第三次合在一个报文段里：${side(from)}确认对方的 FIN，同时关闭${conn}中自己这一方向（FIN,ACK）。`,
  teardown4: (conn, from) => `TCP 四次挥手之第四次：${side(from)}确认最后一个 FIN，${conn}完全断开。`,
  reset: (conn, from) => `${side(from)}发送 RST 复位${conn}：连接立即终止，不经过四次挥手。`,

  bareAck: (from, bytes) => `${side(from)}确认已收到的数据（只有 ACK，不带数据）：到目前为止共收到${otherSide(from)}发来的 ${bytes} 字节。`,
  retransmission: (bytes, kind = 'plain') =>
    kind === 'out-of-order'
      ? `乱序：这 ${bytes} 字节排在后面的数据之后到达（丢失后重发的副本，或者在路上被超过了）。`
      : `这是一次${kind === 'fast' ? '快速重传（由重复 ACK 触发）' : kind === 'spurious' ? '虚假重传（对方早已确认过这些字节）' : '重传'}：这 ${bytes} 字节之前已经发送过（第一次发送的报文段或对它的确认丢失了，或者迟到了）。`,
  missingBefore: (bytes) => `抓包中缺少在这个报文段之前发送的 ${bytes} 字节。`,
  continuation: (from, bytes) => `${side(from)}继续发送前一个报文段中没有发完的那一行，本段 ${bytes} 字节。`,
  moreReplyLines: (code, bytes, ends = false) =>
    ends
      ? `服务器发送多行 ${code} 应答的最后几行（${bytes} 字节）：以“${code} ”开头的那一行结束这个应答。`
      : `服务器继续发送多行 ${code} 应答的后续各行（${bytes} 字节）：直到出现以“${code} ”开头的一行，应答才结束。`,

  command: (verb, arg, d) => commandZh(verb, arg, d),
  reply: (code, command, d) => replyZh(code, command, d),

  dataSummary: (from, what, bytes, segments, acks, first, last, repeated) =>
    `${side(from)}发送${sp(whatZh(what))}：共 ${bytes} 字节，分 ${segments} 个报文段（第 ${first}-${last} 帧）${repeatedZh(repeated)}${acks > 0 ? `；对方用 ${acks} 个 ACK 进行确认` : ''}。（使用 --detail packets 可以逐个查看。）`,
  dataSegment: (from, bytes) => `${side(from)}发送 ${bytes} 字节数据。`,
  telnetAhead: (command, first, urgent) =>
    urgent
      ? `同步信号（Synch）：Telnet 数据标记（IAC DM）作为 TCP 紧急数据发送（URG 标志和紧急指针），这样即使服务器正忙于传输，它的 TCP 也会立即通知它；随后是 ${command}。`
      : first
        ? `客户端按照 RFC 959（第 4.1.3 节）的要求开始中断传输：先发送 Telnet 中断进程信号（IAC IP）；${command} 在后面的报文段中。`
        : `${command} 之前的更多 Telnet 命令。`,
  lossLesson: (retransmitted) =>
    retransmitted > 0
      ? '有报文段在路上丢失或被耽搁了：发送方重发了这些字节——有的是重传计时器到期后重发，有的是收到重复 ACK 后立即重发（快速重传）。接收方的 TCP 会先把所有字节按顺序排好，再交给 FTP 程序：丢包的代价是时间，而不是数据。'
      : '有报文段乱序到达（在路上被后发的报文段超过了）：接收方的 TCP 会先把字节按顺序排好，再交给 FTP 程序。',

  conclusionsTitle: () => '从本次会话可以看出以下几点',
  connectionsCount: (control, data) =>
    `${control} 条控制连接，${data} 条数据连接：整个会话的命令和应答都走同一条控制连接（命令通道），而每次传输都要新建一条数据连接。`,
  controlPorts: (clientPort, serverPort) => `客户端使用临时端口 ${clientPort} 建立控制连接；服务器在端口 ${serverPort} 上监听。`,
  dataPortLine: (command, mode, opener, from, to, how) =>
    `${command}：${mode === 'unknown' ? '模式未知' : mode === 'active' ? '主动模式' : '被动模式'}——${side(opener)}从端口 ${from} 连接到端口 ${to}${how ? `（${how}）` : ''}。`,
  usedData: (commands) => `使用了数据连接的命令：${commands.join('、')}。`,
  controlOnly: (commands) => `只靠控制连接就完成应答的命令：${commands.join('、')}。`,
  portsMoved: (ports) =>
    ports.length < 2 ? '' : `客户端每次传输所用的数据端口依次为：${ports.join(' → ')}${isSequential(ports) ? '（每次加 1：操作系统按顺序分配端口）' : ''}。`,
  noData: () => '没有数据连接：所有命令都只在控制连接上得到应答。',
  everyConnection: () => '每一条 TCP 连接，无论是控制连接还是数据连接，都要经过三次握手才能建立，并经过四次挥手（教材中称为“四次断开”；或者一个 RST）才结束。',
  synRetries: (from, conn, tries, waits, outcome) =>
    `没有应答：${side(from)}为${conn}再次发送 SYN，又发了 ${tries} 次，每次间隔 ${waits.map((w) => w.toFixed(1)).join('、')} 秒：TCP 的重传计时器到期后会重发没有得到应答的 SYN${backsOff(waits) ? '，而且每次把等待时间加倍（指数退避）' : ''}。${
      outcome === 'answered' ? '后来的某一次得到了应答。' : outcome === 'refused' ? '最后对方用 RST 拒绝了连接。' : `没有一次得到应答：${otherSide(from)}没有收到这些 SYN，或者无法应答（防火墙，或者地址不对）。`
    }`,
  refused: (conn, from, port) => `${side(from)}拒绝建立${conn}：它用 RST 回应了 SYN。那里的端口 ${port} 上没有程序在监听，或者防火墙拒绝了这个连接。`,
  afterReset: (conn, resetter, sender, segments, bytes, others, resets) => {
    const came = [segments > 0 ? `${segments} 个数据报文段（${bytes} 字节）` : '', others > 0 ? `${others} 个不带数据的报文段` : ''].filter(Boolean).join('和');
    return `复位之后，${came === '' ? '' : `${side(sender)}的${sp(came)}仍然到达了${conn}（它们在 RST 到达之前就已发出，或者 RST 在路上丢失了）`}${
      resets > 0 ? `${came === '' ? '' : '；'}${side(resetter)}的 TCP 已经没有这条连接，于是再回 RST（共 ${resets} 个）：对于不存在的连接，TCP 对收到的任何报文段都以 RST 回应（RFC 9293 第 3.10.7.1 节）` : ''
    }。${bytes > 0 ? `${side(resetter)}丢弃这些字节，它们不会交给应用程序。` : ''}`;
  },
  finding: (severity, kind, message, count) => `发现（${VOCAB.zh.severity[severity as Severity] ?? severity}，${kind}）：${message}${count > 1 ? `（共 ${count} 次）` : ''}`,
  dataAttempt: (command, mode, opener, from, to, syns, refused) =>
    `${command}：${mode === 'unknown' ? '模式未知' : mode === 'active' ? '主动模式' : '被动模式'}——${side(opener)}试图从端口 ${from} 连接到端口 ${to}（发了 ${syns} 个 SYN），但连接${refused ? '被拒绝（RST）' : '始终没有得到应答'}：没有数据经过这条连接。`,
  laterFindings: () => '最后一步之后的发现',
  tlsHandshake: (from, bytes) =>
    `TLS，${bytes} 字节：234 应答之后，控制连接上传输的是 TLS。这是${side(from)}发出的第一个报文段，属于 TLS 握手（${from === 'client' ? 'ClientHello：客户端提出可用的 TLS 版本和加密套件' : 'ServerHello、服务器的证书和密钥交换'}）；之后的 FTP 命令和应答都是加密的。`,
  tlsMessages: (from, names, version, certificate) =>
    `${side(from)}发出的 TLS 握手消息：${names.map((n) => (n === 'Certificate' && from === 'server' && certificate !== undefined ? `Certificate：服务器的身份：${certificate.subject}，由 ${certificate.issuer} 签发，有效期从 ${certificate.validFrom} 到 ${certificate.validTo}。` : (TLS_ZH[n]?.(from, version) ?? n))).join('')}`,
  tlsRecords: (from, bytes, decrypted) =>
    decrypted === true
      ? `TLS，${bytes} 字节：${side(from)}发出的不含 FTP 命令或应答的记录：TLS 握手的其余部分（会话票据、Finished 消息）或者告警。`
      : `TLS，${bytes} 字节：${side(from)}发出的加密记录：TLS 握手的其余部分，或者没有会话密钥就无法读出的 FTP 命令和应答。`,
  textbook: {
    alsoAcks: (from, bytes, what) =>
      `这个报文段同时确认了${otherSide(from)}发来的${what === null ? ` ${bytes} 字节` : `${sp(what)} ${what === 'TLS' ? '记录' : /^\d/.test(what) ? '应答' : '命令'}（${bytes} 字节）`}：教材把这个 ACK 画成单独的一步，这里它搭载在本报文段上一起发出。`,
    dataPort: (port, controlPort) =>
      port === controlPort + 1
        ? `与教材所说一致，数据端口是 N+1：控制连接的端口 ${controlPort} 加 1。`
        : `教材中的客户端会使用 N+1 = ${controlPort + 1}（控制端口 ${controlPort} 加 1）；这个客户端选的是 ${port}：任何空闲端口都可以。`,
    clientOwn: (verb) => `教材中的会话没有这一步：${verb} 是客户端程序自己发出的，并不是用户输入的命令。`,
    userCommand: (verb) => (USER_COMMANDS[verb] === undefined ? null : `用户在命令行客户端中输入 ${USER_COMMANDS[verb]!.replace(' / ', ' 或 ')} 时，客户端发送的就是 ${verb}。`),
    finalReply: (f) => {
      const first = `${side(f.closedFirst)}先关闭了数据连接（FIN，第 ${f.firstFin} 帧）`;
      if (f.order === 'during') return `与教材一致，226 出现在数据连接的四次挥手过程之中：${first}。`;
      if (f.order === 'before') return `226 出现在数据连接断开之前：服务器先报告传输完成，随后${first}。`;
      return `教材把 226 放在数据连接四次挥手的第二次与第三次之间；这里它出现在断开完成之后：${first}${f.secondFin === null ? '' : `，对方的 FIN 在第 ${f.secondFin} 帧`}。`;
    },
    title: () => '与教材对照',
    acksRode: (steps) => `教材中单独画出的 ${steps.length} 个 ACK，在这里搭载在紧接着的命令或应答上（第 ${steps.join('、')} 步）。`,
    clientPorts: (ports, controlPort) =>
      `教材中的客户端依次使用 N+1、N+2……作为数据端口；这个客户端（控制端口 ${controlPort}）使用的是 ${ports.join('、')}${ports.every((p, i) => p === controlPort + 1 + i) ? '，与教材一致' : '：操作系统分配的是任意空闲端口'}。`,
    passivePorts: (ports) => `被动模式（教材中的会话没有展示）：数据端口（${ports.join('、')}）由服务器选择，由客户端发起连接。`,
    serverPorts: (ports) =>
      ports.every((p) => p === 20) ? '与教材一致，服务器从端口 20 发起数据连接。' : `教材中的服务器从端口 20 发起数据连接；这个服务器使用的是 ${ports.join('、')}。`,
    finalOrder: (after, before) =>
      [after.length > 0 ? `${after.join('、')} 的 226 出现在数据连接断开之后（教材中它出现在断开过程之中）` : '', before.length > 0 ? `${before.join('、')} 的 226 出现在断开开始之前` : '']
        .filter((x) => x !== '')
        .join('；') + '。',
    extras: (verbs) => `客户端程序还自己发出了 ${verbs.join('、')}；教材中的会话里没有这些命令。`,
    asSent: (verbs) => `用户输入的命令在线路上是 FTP 命令：${verbs.map((v) => `${(USER_COMMANDS[v] ?? v.toLowerCase()).replace(' / ', ' 或 ')} 对应 ${v}`).join('，')}。`,
  },
};


/** Where a data connection's port was announced. */
function announced(who: '客户端' | '服务器', by: Announcement | null): string {
  if (by === null) return '（抓包中找不到通告这个端口的命令或应答）';
  if (by.reply) return `（即${who}在第 ${by.frame} 帧对 ${by.source} 的应答中通告的端口）`;
  return `（即${who}在第 ${by.frame} 帧的 ${by.source} 命令中通告的端口）`;
}

/** What a transfer carried. */
function whatZh(what: TransferWhat): string {
  return what.listing ? `目录列表（${what.command}）` : `文件 ${what.path}（${what.command}）`;
}

function commandZh(verb: string, arg: string, d: CommandDetail): string {
  const path = d.path ?? arg;
  switch (verb) {
    case 'USER':
      return `客户端发送用户名“${arg}”。`;
    case 'PASS':
      return d.tls === true
        ? `客户端发送密码${d.passwordHidden ? '（这里已隐藏，加 --show-passwords 可以显示）' : ''}。密码在 TLS 里传输：传输路径上的人看不到，这里是用密钥日志解密后才看到的。`
        : `客户端发送密码${d.passwordHidden ? '（这里已隐藏，加 --show-passwords 可以显示）' : ''}。密码是明文传输的：传输路径上的任何人都能看到。`;
    case 'ACCT':
      return '客户端发送账户信息。';
    case 'SYST':
      return '客户端询问服务器运行的是哪种操作系统。';
    case 'FEAT':
      return '客户端询问服务器支持哪些扩展功能。';
    case 'PWD':
    case 'XPWD':
      return '客户端询问当前工作目录。';
    case 'CWD':
    case 'XCWD':
      return `客户端把工作目录切换到 ${path}。`;
    case 'CDUP':
    case 'XCUP':
      return '客户端返回上一级目录。';
    case 'TYPE': {
      const t = arg.toUpperCase();
      return `客户端把传输类型设为${t === 'I' ? '二进制（I）' : t.startsWith('A') ? '文本（A）' : sp(arg)}。`;
    }
    case 'PORT':
    case 'EPRT':
    case 'LPRT':
      if (d.listen === undefined) return `${verb} ${arg}：客户端通告自己在哪里等待数据连接（主动模式），但无法解析这个参数。`;
      return `${verb} ${arg}：客户端将在 ${d.listen.address} 的端口 ${d.listen.arithmetic ?? d.listen.port} 上监听，并请服务器在下一次传输时连接到这里（主动模式）。${d.thirdParty ? '这不是客户端自己的地址：这是一次第三方传输，或者是 FTP 反弹攻击（FTP bounce）。' : ''}`;
    case 'PASV':
      return '客户端请服务器为下一次数据连接监听一个端口，并告诉客户端是哪个端口（被动模式）。';
    case 'EPSV':
      return '客户端请服务器为下一次数据连接监听一个端口，并告知端口号（扩展被动模式，RFC 2428：应答中不带地址，因此可以穿过 NAT，也适用于 IPv6）。';
    case 'LIST':
    case 'NLST':
    case 'MLSD':
      return `客户端请求列出${path ? ` ${path} ` : '当前工作目录'}的内容；列表将通过数据连接传送。`;
    case 'RETR':
      return `客户端请求下载文件 ${path}；文件将通过数据连接传送。`;
    case 'STOR':
    case 'STOU':
      return `客户端上传文件 ${path}；文件将通过数据连接传送。`;
    case 'APPE':
      return `客户端向文件 ${path} 追加内容；数据将通过数据连接传送。`;
    case 'SIZE':
      return `客户端询问 ${path} 的大小。`;
    case 'MDTM':
      return `客户端询问 ${path} 的最后修改时间。`;
    case 'REST':
      return `客户端要求下一次传输从第 ${arg} 字节开始（断点续传）。`;
    case 'DELE':
      return `客户端删除文件 ${path}。`;
    case 'MKD':
    case 'XMKD':
      return `客户端创建目录 ${path}。`;
    case 'RMD':
    case 'XRMD':
      return `客户端删除目录 ${path}。`;
    case 'RNFR':
      return `客户端开始重命名 ${path}。`;
    case 'RNTO':
      return `客户端给出新名称：${path}。`;
    case 'AUTH':
      return `客户端请求用${sp(arg || 'TLS')} 加密控制连接。`;
    case 'PBSZ':
      return '客户端设置保护缓冲区大小（发送 PROT 之前必须先发送它）。';
    case 'PROT':
      return `客户端请求${arg.toUpperCase() === 'P' ? '受保护（加密）的' : '不加密的'}数据连接。`;
    case 'OPTS':
      return `客户端设置选项：${arg}。`;
    case 'NOOP':
      return '客户端发送 NOOP：什么也不做，只是让连接保持活跃。';
    case 'ABOR':
      return d.telnet
        ? '客户端按 RFC 959（第 4.1.3 节）的方式打断正在进行的传输：先发 Telnet IP 和同步信号（IAC IP、IAC DM），再发 ABOR。'
        : '客户端中止正在进行的传输。';
    case 'QUIT':
      return '客户端请求退出，结束本次会话。';
    default:
      return `客户端发送命令 ${verb}${arg ? `，参数为“${arg}”` : ''}。`;
  }
}

function replyZh(code: number, command: string, d: ReplyDetail): string {
  /** "（200，应答 PORT）": the code, and the command answered when there is one. */
  const tag = (c: number) => `（${c}${command === '<init>' ? '' : command === '' ? '，所应答的命令不在抓包中' : `，应答 ${command}`}）`;
  switch (code) {
    case 220:
      return command === '<init>' ? '服务器向客户端发送欢迎信息：FTP 会话开始（220）。' : `服务已就绪${tag(220)}。`;
    case 331:
      return '服务器接受用户名，要求客户端提供密码（331）。';
    case 230:
      return '服务器确认登录成功（230）。';
    case 530:
      return command === 'PASS' || command === 'USER' ? '服务器拒绝登录（530）。' : `尚未登录${tag(530)}。`;
    case 215:
      return `服务器告知它的系统类型：${d.text}（215）。`;
    case 211:
      return `服务器分多行返回一个列表${tag(211)}。`;
    case 257:
      return d.directory ? `当前工作目录是 ${d.directory}（257）。` : `服务器返回目录名${tag(257)}。`;
    case 250:
      return `${command === '<init>' ? '操作' : command === '' ? '一条不在抓包中的命令' : `${command} 命令`}已完成（250）。`;
    case 200:
      return `服务器接受了${command === '<init>' ? '命令' : command === '' ? '一条不在抓包中的命令' : ` ${command} 命令`}（200）。`;
    case 213:
      return command === 'SIZE' ? `文件大小为 ${d.text} 字节（213）。` : `状态${tag(213)}：${last(d.text)}`;
    case 227:
    case 229:
    case 228: {
      const c = d.connectTo;
      if (c === undefined) return `被动模式（${code}），但无法解析其中的地址。`;
      const nat = c.differs
        ? `注意：这不是服务器在控制连接上使用的地址（${c.controlAddress}）：可能中间有 NAT，或者被动模式的地址配置错误；客户端可能连接不上。`
        : '';
      return `服务器在 ${c.address} 的端口 ${c.arithmetic ?? c.port} 上监听，等待数据连接（${code}，被动模式）：客户端应当连接到这里。${nat}`;
    }
    case 150:
    case 125: {
      const known = command !== '' && command !== '<init>';
      return code === 125
        ? `服务器使用已经打开的数据连接来处理${known ? ` ${command}` : '这次传输'}（125）。`
        : `服务器即将为${known ? ` ${command} ` : '这次传输'}打开（或使用已有的）数据连接（150）。`;
    }
    case 226:
      if (d.transfer === undefined) return '服务器报告数据连接已关闭（226）。';
      return d.transfer.complete
        ? '传输完成：服务器这样报告（226），而且每个字节都在抓包里。'
        : `服务器报告传输结束（226），但抓包显示它并不完整：${d.transfer.causeZh ?? '见该次传输'}。`;
    case 221:
      return '服务器回应 221（再见），随后关闭控制连接。';
    case 350:
      return `请求已挂起，服务器等待下一条命令${tag(350)}。`;
    case 425: {
      const t = d.transfer;
      const head = `服务器放弃了（425）：它无法为 ${command} 打开数据连接。`;
      if (t === undefined) return head;
      const n = t.tries;
      const seen = n === null || n.outcome === 'none'
        ? '抓包中没有为它建立连接的尝试。'
        : n.outcome === 'unanswered' ? `它的 ${n.syns} 个 SYN（${n.first === n.last ? `第 ${n.first} 帧` : `第 ${n.first}-${n.last} 帧`}）都没有得到应答。`
          : n.outcome === 'refused' ? `它的 SYN 被 RST 拒绝了（第 ${n.last} 帧）。` : '';
      const why = t.mode === 'active'
        ? '主动模式下是服务器向客户端发起连接：凡是挡住外面连进客户端的东西（防火墙、NAT）都会让传输失败。'
        : t.mode === 'passive' ? '被动模式下是客户端连接服务器通告的端口：没有连接及时到达服务器的这个端口。' : '';
      return head + seen + why;
    }
    case 426:
      return `服务器报告传输已中止（426）：${command} 的数据连接在传输结束之前就关闭了。`;
    case 450:
    case 550:
      return `请求被拒绝：文件不可用${tag(code)}：${last(d.text)}`;
    case 500:
    case 501:
    case 502:
    case 504:
      return `服务器不接受${command === '<init>' ? '该命令' : command === '' ? '一条不在抓包中的命令' : `命令 ${command}`}（${code}）：${last(d.text)}`;
    case 234:
      return d.decrypted === true
        ? '服务器同意：从现在起控制连接使用 TLS 加密（234）。密钥日志能解密它：下面的命令和应答是解密后的内容，各自显示在承载它的 TLS 记录所在的报文段里。'
        : '服务器同意：从现在起控制连接使用 TLS 加密，之后的内容在这里无法再读出（234）。';
    case 421:
      return '服务器正在关闭控制连接（421）。';
    default:
      return `${d.preliminary ? '初步应答' : code < 400 ? '应答' : '错误应答'}${tag(code)}：${last(d.text)}`;
  }
}
