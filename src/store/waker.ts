import type { Db } from './db.ts';

/**
 * Tells dispatchers in other processes that deliveries came due (PostgreSQL NOTIFY), after the
 * commit and at most once per interval, with a trailing call so the last publish of a burst is
 * always announced. A NOTIFY inside the publish transaction would serialise commits (PostgreSQL
 * queues notifications under a global lock at commit), and a dispatcher only needs to hear
 * "look now" once to claim the whole burst. SQLite has one process: nothing to do.
 */
export class Waker {
  readonly #db: Db;
  readonly #channel: string;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #lastSent = 0;
  #trailing: NodeJS.Timeout | null = null;

  constructor(db: Db, channel: string, onError: (error: unknown) => void, intervalMs = 20) {
    this.#db = db;
    this.#channel = channel;
    this.#onError = onError;
    this.#intervalMs = intervalMs;
  }

  wake(): void {
    if (this.#db.engine !== 'postgres' || this.#trailing) return;
    const wait = this.#lastSent + this.#intervalMs - Date.now();
    if (wait <= 0) {
      this.#send();
      return;
    }
    this.#trailing = setTimeout(() => {
      this.#trailing = null;
      this.#send();
    }, wait);
    this.#trailing.unref();
  }

  #send(): void {
    this.#lastSent = Date.now();
    this.#db.get('SELECT pg_notify($1, $2)', [this.#channel, '']).catch(this.#onError);
  }

  close(): void {
    if (this.#trailing) clearTimeout(this.#trailing);
    this.#trailing = null;
  }
}
