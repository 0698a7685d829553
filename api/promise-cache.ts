/**
 * Promises remembered by key, so that concurrent askers share one computation: at most `max`
 * entries (the oldest dropped first); one that rejects, or whose value `keep` refuses, is
 * forgotten so that the next asker computes it again. (The read cache and the assessment
 * computer both use it.)
 */
export class PromiseCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(
    private readonly max: number,
    private readonly keep: (value: T) => boolean = () => true,
  ) {}

  get(key: string, make: () => Promise<T>): Promise<T> {
    const existing = this.entries.get(key);
    if (existing) return existing;
    const made = make();
    this.entries.set(key, made);
    const forget = () => {
      if (this.entries.get(key) === made) this.entries.delete(key);
    };
    made.then((value) => {
      if (!this.keep(value)) forget();
    }, forget);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return made;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
