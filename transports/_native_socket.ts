/**
 * A TCP connection that moves its bytes with libc's `send` and `recv` through
 * FFI where that saves a wake-up. A read or a write first tries the
 * non-blocking system call, which costs well under a microsecond. If it would
 * block and a receive is awaited, the transport spins on its sockets
 * ({@link NativeSocket.progress}) for a bounded time, as an MPI progress engine
 * polls; otherwise, or when the spin ends, the read or write is handed to
 * Deno's own op on the same connection, which sleeps in the event loop. At
 * most one of the two paths touches the socket at a time, so bytes stay in
 * order.
 *
 * The connection is made and authenticated with Deno first; its file
 * descriptor is then found by its two ports (Linux, `/proc/self/fd`).
 *
 * @module
 */

const SYMBOLS = {
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const EINTR = 4;
const EAGAIN = 11;
const EPIPE = 32;
const ECONNRESET = 104;
const AF_INET = 2;
const AF_INET6 = 10;

let libc: Libc | null | undefined;

/**
 * libc through FFI, or null where native I/O cannot work: not Linux, no FFI
 * permission, or `/proc/self/fd` not listable (Deno lets only programs with
 * every permission list it).
 */
function openLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  try {
    if (Deno.build.os !== "linux") return null;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const fds = Deno.permissions.querySync({ name: "read", path: "/proc/self/fd" });
    if (fds.state !== "granted") return null;
    for (const _ of Deno.readDirSync("/proc/self/fd")) break;
    libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch {
    libc = null;
  }
  return libc;
}

/** This thread's errno (its location is fixed per thread, and a module lives on one thread). */
let errnoView: Deno.UnsafePointerView | null | undefined;

function errno(c: Libc): number {
  if (errnoView === undefined) {
    const at = c.__errno_location();
    errnoView = at ? new Deno.UnsafePointerView(at) : null;
  }
  return errnoView ? errnoView.getInt32() : 0;
}

/** The port of a socket's own or peer address, or -1 if it is not an internet socket. */
function portOf(c: Libc, fd: number, which: "getsockname" | "getpeername"): number {
  const address = new Uint8Array(128);
  const length = new Uint32Array([address.byteLength]);
  if (c[which](fd, address, new Uint8Array(length.buffer)) !== 0) return -1;
  const family = address[0] | (address[1] << 8);
  if (family !== AF_INET && family !== AF_INET6) return -1;
  return (address[2] << 8) | address[3];
}

/**
 * The socket descriptors of this process by their two ports (`local:remote`);
 * a pair seen twice maps to -1. One pass over `/proc/self/fd` serves every
 * connection of a mesh.
 */
function socketsByPorts(c: Libc): Map<string, number> | undefined {
  const byPorts = new Map<string, number>();
  try {
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(entry.name);
      let target: string;
      try {
        target = Deno.readLinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue;
      }
      if (!target.startsWith("socket:")) continue;
      const key = `${portOf(c, fd, "getsockname")}:${portOf(c, fd, "getpeername")}`;
      byPorts.set(key, byPorts.has(key) ? -1 : fd);
    }
  } catch {
    // Not listable here: Deno's ops carry the connections.
    return undefined;
  }
  return byPorts;
}

function failure(op: string, code: number): Error {
  if (code === ECONNRESET) return new Deno.errors.ConnectionReset(`${op}: connection reset`);
  if (code === EPIPE) return new Deno.errors.BrokenPipe(`${op}: broken pipe`);
  return new Error(`${op} failed (errno ${code})`);
}

interface Pending<T> {
  p: Uint8Array;
  resolve(value: T): void;
  reject(error: Error): void;
  /** Handed to Deno's op: the system calls leave the socket alone until it settles. */
  sleeping: boolean;
}

/**
 * Whether native socket I/O can be used in this process (Linux, with every
 * permission).
 *
 * @returns True if {@link adoptNativeSocket} can work.
 */
export function nativeSocketsAvailable(): boolean {
  return openLibc() !== null;
}

/**
 * Takes over the data path of connected, authenticated TCP connections.
 *
 * @param conns The connections (each left open, unused, until its socket closes).
 * @returns One socket per connection, or undefined where native I/O is not
 * available or a connection's descriptor cannot be found unambiguously.
 */
export function adoptNativeSockets(conns: readonly Deno.TcpConn[]): NativeSocket[] | undefined {
  const c = openLibc();
  if (!c) return undefined;
  const byPorts = socketsByPorts(c);
  if (!byPorts) return undefined;
  const sockets: NativeSocket[] = [];
  for (const conn of conns) {
    const key = `${(conn.localAddr as Deno.NetAddr).port}:${
      (conn.remoteAddr as Deno.NetAddr).port
    }`;
    const fd = byPorts.get(key) ?? -1;
    if (fd < 0) return undefined;
    sockets.push(new NativeSocket(c, conn, fd));
  }
  return sockets;
}

/** A connection whose reads and writes are libc system calls first (see the module doc). */
export class NativeSocket {
  #c: Libc;
  #conn: Deno.Conn;
  #fd: number;
  #read: Pending<number | null> | undefined;
  #write: Pending<number> | undefined;
  #closed = false;
  /**
   * Called when a read finds no data or a write finds the socket full; returns
   * true if the caller will spin on it (and call {@link NativeSocket.sleep}
   * when it stops), false to hand it to Deno's op at once.
   */
  onStall?: () => boolean;

  /**
   * Wraps a descriptor (see {@link adoptNativeSocket}).
   *
   * @param c libc.
   * @param conn The Deno connection that owns the descriptor.
   * @param fd The descriptor.
   */
  constructor(c: Libc, conn: Deno.Conn, fd: number) {
    this.#c = c;
    this.#conn = conn;
    this.#fd = fd;
  }

  /**
   * Reads into `p`.
   *
   * @param p Where to read to.
   * @returns The bytes read, or null at the end of the stream.
   */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#read) return Promise.reject(new Error("A read is already waiting"));
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Socket closed"));
    return new Promise((resolve, reject) => {
      this.#read = { p, resolve, reject, sleeping: false };
      if (this.#tryRead()) return;
      if (!this.onStall?.()) this.#sleepRead();
    });
  }

  /**
   * Writes some of `p`.
   *
   * @param p What to write.
   * @returns The bytes written.
   */
  write(p: Uint8Array): Promise<number> {
    if (this.#write) return Promise.reject(new Error("A write is already waiting"));
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Socket closed"));
    return new Promise((resolve, reject) => {
      this.#write = { p, resolve, reject, sleeping: false };
      if (this.#tryWrite()) return;
      if (!this.onStall?.()) this.#sleepWrite();
    });
  }

  /**
   * Tries the waiting read and write once, without blocking (not those handed
   * to Deno's op).
   *
   * @returns Whether either finished (its promise is settled).
   */
  progress(): boolean {
    const read = this.#read !== undefined && !this.#read.sleeping && this.#tryRead();
    const wrote = this.#write !== undefined && !this.#write.sleeping && this.#tryWrite();
    return read || wrote;
  }

  /** Hands the waiting read and write to Deno's op, which sleeps until they can go on. */
  sleep(): void {
    this.#sleepRead();
    this.#sleepWrite();
  }

  /** Whether a read or a write waits and could be spun on. */
  get stalled(): boolean {
    return (this.#read !== undefined && !this.#read.sleeping) ||
      (this.#write !== undefined && !this.#write.sleeping);
  }

  /** Closes the connection; a read or write still waiting fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new Deno.errors.BadResource("Socket closed");
    if (this.#read && !this.#read.sleeping) this.#settleRead((r) => r.reject(closed));
    if (this.#write && !this.#write.sleeping) this.#settleWrite((w) => w.reject(closed));
    // Deno's ops still waiting fail on their own when the connection closes.
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  #settleRead(how: (r: Pending<number | null>) => void): void {
    const r = this.#read;
    if (!r) return;
    this.#read = undefined;
    how(r);
  }

  #settleWrite(how: (w: Pending<number>) => void): void {
    const w = this.#write;
    if (!w) return;
    this.#write = undefined;
    how(w);
  }

  /** One non-blocking recv; settles the read unless there is nothing yet. */
  #tryRead(): boolean {
    const { p } = this.#read!;
    const n = Number(this.#c.recv(this.#fd, p, BigInt(p.byteLength), MSG_DONTWAIT));
    if (n > 0) {
      this.#settleRead((r) => r.resolve(n));
      return true;
    }
    if (n === 0) {
      this.#settleRead((r) => r.resolve(p.byteLength === 0 ? 0 : null));
      return true;
    }
    const code = errno(this.#c);
    if (code === EAGAIN || code === EINTR) return false;
    this.#settleRead((r) => r.reject(failure("recv", code)));
    return true;
  }

  /** One non-blocking send; settles the write unless the socket is full. */
  #tryWrite(): boolean {
    const { p } = this.#write!;
    const n = Number(this.#c.send(this.#fd, p, BigInt(p.byteLength), MSG_DONTWAIT | MSG_NOSIGNAL));
    if (n >= 0) {
      this.#settleWrite((w) => w.resolve(n));
      return true;
    }
    const code = errno(this.#c);
    if (code === EAGAIN || code === EINTR) return false;
    this.#settleWrite((w) => w.reject(failure("send", code)));
    return true;
  }

  #sleepRead(): void {
    const pending = this.#read;
    if (!pending || pending.sleeping || this.#closed) return;
    pending.sleeping = true;
    this.#conn.read(pending.p).then(
      (n) => this.#settleRead((r) => r.resolve(n)),
      (e) => this.#settleRead((r) => r.reject(e)),
    );
  }

  #sleepWrite(): void {
    const pending = this.#write;
    if (!pending || pending.sleeping || this.#closed) return;
    pending.sleeping = true;
    this.#conn.write(pending.p).then(
      (n) => this.#settleWrite((w) => w.resolve(n)),
      (e) => this.#settleWrite((w) => w.reject(e)),
    );
  }
}
