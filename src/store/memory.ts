/**
 * The store's shared memory: named SharedArrayBuffers that every worker thread maps. The thread
 * that creates the store allocates them; a worker handed the same buffers adopts them as they are.
 * Buffers that grow are growable SharedArrayBuffers: a thread that grows one bumps the generation,
 * and every thread rebuilds its fixed-length views when it next takes the lock (fixed-length views
 * are as fast as plain typed arrays; length-tracking ones over a growable buffer were 20x slower).
 */
const LOCK = 0;
const GENERATION = 1;
/** Reserved but not committed: growable buffers take pages only as they grow into them. */
export const MAX_GROWABLE_BYTES = 2 ** 40;

/** What crosses to a worker: plain SharedArrayBuffers, structured-cloneable. */
export interface StoreBuffers {
  control: SharedArrayBuffer;
  named: Record<string, SharedArrayBuffer>;
}

export class SharedMemory {
  readonly control: Int32Array;
  private readonly named: Record<string, SharedArrayBuffer>;
  /** True for the thread that allocated the buffers: only it initializes their contents. */
  readonly creator: boolean;

  constructor(buffers?: StoreBuffers) {
    this.creator = buffers === undefined;
    this.control = new Int32Array(buffers?.control ?? new SharedArrayBuffer(8));
    this.named = buffers?.named ?? {};
  }

  get buffers(): StoreBuffers {
    return { control: this.control.buffer as SharedArrayBuffer, named: this.named };
  }

  /** The buffer called `name`, allocated with `bytes` (growable up to `maxBytes`) if new. */
  take(name: string, bytes: number, maxBytes = 0): SharedArrayBuffer {
    let b = this.named[name];
    if (b === undefined) {
      if (!this.creator) throw new Error(`shared store buffer ${name} is missing`);
      b = maxBytes > 0
        ? new SharedArrayBuffer(bytes, { maxByteLength: maxBytes })
        : new SharedArrayBuffer(bytes);
      this.named[name] = b;
    }
    return b;
  }

  /** Numbers of a part of the store (counts, queue ends, limits) in a small shared array. */
  scalars(name: string, count: number): Float64Array {
    return new Float64Array(this.take(name, count * 8));
  }

  /** Grows a growable buffer to at least `bytes`; other threads remap at their next lock. */
  grow(buffer: SharedArrayBuffer, bytes: number): void {
    if (buffer.byteLength >= bytes) return;
    buffer.grow(bytes);
    Atomics.add(this.control, GENERATION, 1);
  }

  get generation(): number {
    return Atomics.load(this.control, GENERATION);
  }

  /** The lock word (lock.ts). */
  get lockIndex(): number {
    return LOCK;
  }
}
