/**
 * A minimal WebSocket client (RFC 6455) on a raw `net` socket, for the load generator: `ws` spends
 * a core on ~100k deliveries/s here, this spends a fraction of that. What it leaves out is what the
 * chat server never sends (compression, extensions, subprotocols). What it keeps:
 *
 * - The opening handshake, with the `Sec-WebSocket-Accept` check.
 * - Client frames masked with a fresh random key per frame, as RFC 6455 section 5.3 requires.
 * - Server frames (never masked) parsed straight out of ONE read buffer shared by every socket
 *   (`net`'s `onread`): no Buffer, no stream event and no string per read. A payload is handed to
 *   the sink as (buffer, start, end), valid only during that call; only a frame split across two
 *   reads is copied.
 * - Pings answered with pongs, a close frame answered with a close frame, fragmented messages
 *   reassembled (uWebSockets.js does not fragment, but a client must not misread one).
 *
 * The receive time of every frame of one read is taken once per read, from CLOCK_MONOTONIC
 * (`process.hrtime.bigint()`), the clock examples/chat/PROTOCOL.md's load-test convention uses in `content`.
 */
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Opcodes (RFC 6455 section 5.2). */
export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Frames larger than this are refused (the chat's frames are ~1.2 KB; replays come one frame each). */
const MAX_FRAME = 16 * 1024 * 1024;

/** Where a client's events go. Payloads are views into a shared buffer: copy what you keep. */
export interface WsSink {
  /** A complete text (binary = false) or binary message, bytes [start, end) of `buf`. */
  message(buf: Buffer, start: number, end: number, binary: boolean, recvNs: number): void;
  /** The handshake completed. */
  open(): void;
  /** The connection ended; `code` is the close frame's code, 1006 without one. Called once. */
  closed(code: number, reason: string): void;
}

/** The monotonic receive time of the read being processed, in ns (exact below 2^53 ns = 104 days). */
let recvNs = 0;

// One read buffer for every socket: reads are processed synchronously, one at a time.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

// Random bytes for masking keys, refilled in bulk: one crypto call per 16k frames, not per frame.
const MASK_POOL = Buffer.allocUnsafe(64 * 1024);
let maskAt = MASK_POOL.length;

function nextMask(): number {
  if (maskAt + 4 > MASK_POOL.length) {
    randomFillSync(MASK_POOL);
    maskAt = 0;
  }
  const m = MASK_POOL.readUInt32BE(maskAt);
  maskAt += 4;
  return m;
}

/** Builds one masked client frame around `payload` (a string is written as UTF-8). */
export function encodeClientFrame(opcode: number, payload: string | Uint8Array): Buffer {
  const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) frame[1] = 0x80 | len;
  else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  const mask = nextMask();
  frame.writeUInt32BE(mask, head);
  const p = head + 4;
  if (typeof payload === 'string') frame.write(payload, p, 'utf8');
  else frame.set(payload, p);
  const m0 = mask >>> 24;
  const m1 = (mask >>> 16) & 0xff;
  const m2 = (mask >>> 8) & 0xff;
  const m3 = mask & 0xff;
  const end = p + len;
  let i = p;
  for (; i + 3 < end; i += 4) {
    frame[i] = (frame[i] as number) ^ m0;
    frame[i + 1] = (frame[i + 1] as number) ^ m1;
    frame[i + 2] = (frame[i + 2] as number) ^ m2;
    frame[i + 3] = (frame[i + 3] as number) ^ m3;
  }
  const masks = [m0, m1, m2, m3];
  for (let k = 0; i < end; i++, k++) frame[i] = (frame[i] as number) ^ (masks[k] as number);
  return frame;
}

/** Options of a connection. */
export interface WsConnectOptions {
  readonly port: number;
  /** Path and query, e.g. `/ws?user=u1`. */
  readonly path: string;
  /** Default 127.0.0.1: the benchmark never leaves the machine. */
  readonly host?: string;
  /** The source address to connect from (any of 127.0.0.0/8); default the kernel's choice (127.0.0.1). */
  readonly localAddress?: string;
  /** Give up on the handshake after this long. Default 10,000 ms. */
  readonly handshakeTimeoutMs?: number;
}

/** One client connection. */
export class WsClient {
  readonly #sink: WsSink;
  readonly #socket: Socket;
  readonly #key: string;
  #open = false;
  #done = false;
  /** Handshake bytes until the blank line. */
  #head = '';
  /** A frame split across reads: its bytes so far, and how many it needs (0: header incomplete). */
  #partial: Buffer | undefined = undefined;
  #partialLen = 0;
  #partialNeed = 0;
  /** A fragmented message being reassembled. */
  #fragments: Buffer[] | undefined = undefined;
  #fragmentsBinary = false;
  #timer: NodeJS.Timeout | undefined;
  /** When the connection was started, and when TCP connected (-1: not yet), for the failure's reason. */
  readonly #startedAt = performance.now();
  #connectedAt = -1;

  constructor(options: WsConnectOptions, sink: WsSink) {
    this.#sink = sink;
    this.#key = randomBytes(16).toString('base64');
    const host = options.host ?? '127.0.0.1';
    this.#socket = connect({
      host,
      port: options.port,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number) => {
          this.#onRead(n);
          return true;
        },
      },
    });
    this.#socket.on('connect', () => {
      this.#connectedAt = performance.now();
      this.#socket.write(
        `GET ${options.path} HTTP/1.1\r\nHost: ${host}:${options.port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${this.#key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.#socket.on('error', (e: NodeJS.ErrnoException) =>
      this.#finish(1006, `socket error ${e.code ?? e.message} ${this.#when()}`),
    );
    this.#socket.on('close', () => this.#finish(1006, `connection dropped ${this.#when()}`));
    this.#timer = setTimeout(() => {
      if (!this.#open) this.#finish(1006, 'handshake timeout');
    }, options.handshakeTimeoutMs ?? 10_000);
  }

  /** True between the handshake and the end of the connection. */
  get open(): boolean {
    return this.#open && !this.#done;
  }

  /** Bytes written but not yet taken by the kernel: a load generator falling behind shows here. */
  get writeBacklog(): number {
    return this.#socket.writableLength;
  }

  /** Sends a text frame (JSON). False once the connection is gone. */
  sendText(text: string): boolean {
    if (!this.open) return false;
    this.#socket.write(encodeClientFrame(OP_TEXT, text));
    return true;
  }

  /** Sends a binary frame (MessagePack). */
  sendBinary(bytes: Uint8Array): boolean {
    if (!this.open) return false;
    this.#socket.write(encodeClientFrame(OP_BINARY, bytes));
    return true;
  }

  /** Sends frames in one write, so that the server reads them together (text: JSON, bytes: MessagePack). */
  sendTogether(payloads: ReadonlyArray<string | Uint8Array>): boolean {
    if (!this.open) return false;
    this.#socket.write(
      Buffer.concat(
        payloads.map((p) => (typeof p === 'string' ? encodeClientFrame(OP_TEXT, p) : encodeClientFrame(OP_BINARY, p))),
      ),
    );
    return true;
  }

  /** Closes with a close frame, then drops the socket shortly after whatever the server does. */
  close(code = 1000): void {
    if (this.#done) return;
    if (this.#open) {
      const body = Buffer.allocUnsafe(2);
      body.writeUInt16BE(code, 0);
      this.#socket.end(encodeClientFrame(OP_CLOSE, body));
    }
    this.#finish(code, 'closed by client');
  }

  /** Drops the TCP connection at once. */
  destroy(): void {
    this.#finish(1006, 'destroyed by client');
  }

  /** Where the connection was when it failed: how far the handshake got, and when. */
  #when(): string {
    const ms = (t: number) => `${(t - this.#startedAt).toFixed(0)} ms`;
    const now = performance.now();
    if (this.#connectedAt < 0) return `(TCP not connected, ${ms(now)} after the start)`;
    return `(TCP connected at ${ms(this.#connectedAt)}, ${this.#open ? 'upgraded' : 'no upgrade answer'}, ${ms(now)} after the start)`;
  }

  #finish(code: number, reason: string): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#partial = undefined;
    this.#fragments = undefined;
    // end() above may still be flushing a close frame; destroy soon after, never leave it open.
    if (this.#socket.writableLength > 0 && !this.#socket.destroyed) {
      setTimeout(() => this.#socket.destroy(), 200).unref();
    } else this.#socket.destroy();
    this.#sink.closed(code, reason);
  }

  #onRead(n: number): void {
    if (this.#done) return;
    recvNs = Number(process.hrtime.bigint());
    let off = 0;
    if (!this.#open) {
      off = this.#handshake(n);
      if (off < 0) return;
    }
    if (this.#partial !== undefined) {
      off = this.#fillPartial(off, n);
      if (this.#partial !== undefined || this.#done) return;
    }
    this.#parse(READ_BUFFER, off, n);
  }

  /** Consumes handshake bytes; returns where frames start in the read buffer, or -1 if not yet. */
  #handshake(n: number): number {
    // The response is ASCII and small; a byte-wise scan for CRLFCRLF across reads keeps it simple.
    const text = READ_BUFFER.toString('latin1', 0, n);
    const before = this.#head.length;
    this.#head += text;
    const endAt = this.#head.indexOf('\r\n\r\n');
    if (endAt === -1) {
      if (this.#head.length > 16 * 1024) this.#finish(1006, 'handshake response too long');
      return -1;
    }
    const head = this.#head.slice(0, endAt);
    this.#head = '';
    const accept = createHash('sha1')
      .update(this.#key + GUID)
      .digest('base64');
    const status = head.slice(0, head.indexOf('\r\n'));
    if (!/^HTTP\/1\.1 101 /.test(status)) {
      this.#finish(1006, `handshake refused: ${status}`);
      return -1;
    }
    const m = /\r\nsec-websocket-accept:\s*([^\r\n]+)/i.exec(head);
    if (m === null || m[1]?.trim() !== accept) {
      this.#finish(1006, 'bad Sec-WebSocket-Accept');
      return -1;
    }
    this.#open = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#sink.open();
    return endAt + 4 - before;
  }

  /**
   * Parses whole frames in buf[off, end) and copies the tail of an incomplete one out of the
   * shared buffer.
   */
  #parse(buf: Buffer, off: number, end: number): void {
    while (off < end && !this.#done) {
      const avail = end - off;
      if (avail < 2) break;
      const b1 = buf[off + 1] as number;
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (avail < 4) break;
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (avail < 10) break;
        len = buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
        head = 10;
      }
      if (b1 & 0x80) {
        this.#finish(1002, 'masked server frame');
        return;
      }
      if (len > MAX_FRAME) {
        this.#finish(1009, 'server frame too large');
        return;
      }
      const total = head + len;
      if (avail < total) {
        this.#savePartial(buf, off, end, total);
        return;
      }
      this.#frame(buf[off] as number, buf, off + head, off + total);
      off += total;
    }
    if (off < end && !this.#done) this.#savePartial(buf, off, end, 0);
  }

  #savePartial(buf: Buffer, off: number, end: number, need: number): void {
    const have = end - off;
    const p = Buffer.allocUnsafe(need > 0 ? need : 14);
    buf.copy(p, 0, off, end);
    this.#partial = p;
    this.#partialLen = have;
    this.#partialNeed = need;
  }

  /** Adds bytes from the read buffer to a split frame; returns how many it took. */
  #fillPartial(off: number, n: number): number {
    let p = this.#partial as Buffer;
    if (this.#partialNeed === 0) {
      // The header itself was split: complete it (at most 14 bytes), then size the frame.
      const take = Math.min(14 - this.#partialLen, n - off);
      READ_BUFFER.copy(p, this.#partialLen, off, off + take);
      const have = this.#partialLen + take;
      const need = frameSize(p, have);
      if (need === 0) {
        this.#partialLen = have;
        return off + take;
      }
      if (need > MAX_FRAME + 14) {
        this.#finish(1009, 'server frame too large');
        return n;
      }
      const full = Buffer.allocUnsafe(need);
      p.copy(full, 0, 0, this.#partialLen);
      p = this.#partial = full;
      this.#partialNeed = need;
      // Re-read from where the old partial ended: the bytes just copied into the small header
      // buffer are copied again below, into the full one.
    }
    const take = Math.min(this.#partialNeed - this.#partialLen, n - off);
    READ_BUFFER.copy(p, this.#partialLen, off, off + take);
    this.#partialLen += take;
    if (this.#partialLen < this.#partialNeed) return off + take;
    this.#partial = undefined;
    const head = p.length - payloadLength(p);
    this.#frame(p[0] as number, p, head, p.length);
    return off + take;
  }

  #frame(b0: number, buf: Buffer, start: number, end: number): void {
    const op = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (op === OP_TEXT || op === OP_BINARY) {
      if (fin) this.#sink.message(buf, start, end, op === OP_BINARY, recvNs);
      else {
        this.#fragments = [Buffer.from(buf.subarray(start, end))];
        this.#fragmentsBinary = op === OP_BINARY;
      }
    } else if (op === OP_CONT) {
      const parts = this.#fragments;
      if (parts === undefined) {
        this.#finish(1002, 'continuation without a start');
        return;
      }
      parts.push(Buffer.from(buf.subarray(start, end)));
      if (fin) {
        this.#fragments = undefined;
        const whole = Buffer.concat(parts);
        this.#sink.message(whole, 0, whole.length, this.#fragmentsBinary, recvNs);
      }
    } else if (op === OP_PING) {
      this.#socket.write(encodeClientFrame(OP_PONG, Buffer.from(buf.subarray(start, end))));
    } else if (op === OP_CLOSE) {
      const code = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
      const reason = end - start > 2 ? buf.toString('utf8', start + 2, end) : '';
      const body = Buffer.allocUnsafe(2);
      body.writeUInt16BE(code === 1005 ? 1000 : code, 0);
      this.#socket.end(encodeClientFrame(OP_CLOSE, body));
      this.#finish(code, reason);
    }
    // OP_PONG: nothing to do.
  }
}

/** The full size of the frame whose first `have` bytes are in `p`, or 0 if the header is incomplete. */
function frameSize(p: Buffer, have: number): number {
  if (have < 2) return 0;
  const len = (p[1] as number) & 0x7f;
  if (len < 126) return 2 + len;
  if (len === 126) return have < 4 ? 0 : 4 + p.readUInt16BE(2);
  return have < 10 ? 0 : 10 + p.readUInt32BE(2) * 2 ** 32 + p.readUInt32BE(6);
}

/** The payload length of a complete frame in `p`. */
function payloadLength(p: Buffer): number {
  const len = (p[1] as number) & 0x7f;
  if (len < 126) return len;
  if (len === 126) return p.readUInt16BE(2);
  return p.readUInt32BE(2) * 2 ** 32 + p.readUInt32BE(6);
}
