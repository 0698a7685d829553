/**
 * Promises remembered by key, so that concurrent askers share one computation: at most `max`
 * entries (the oldest dropped first); one that rejects, or whose value `keep` refuses, is
 * forgotten so that the next asker computes it again. (The read cache and the assessment
 * computer both use it.)
 */
interface Entry<T> {
  readonly promise: Promise<T>;
  /** Set once the promise has resolved to a value `keep` accepted. */
  settled?: { readonly value: T };
}

export class PromiseCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly max: number,
    private readonly keep: (value: T) => boolean = () => true,
  ) {}

  get(key: string, make: () => Promise<T>): Promise<T> {
    const existing = this.entries.get(key);
    if (existing) return existing.promise;
    const entry: Entry<T> = { promise: make() };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.promise.then((value) => {
      if (this.keep(value)) entry.settled = { value };
      else forget();
    }, forget);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return entry.promise;
  }

  /** The value under `key` if it is already computed (without a promise), else undefined. */
  peek(key: string): T | undefined {
    return this.entries.get(key)?.settled?.value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
