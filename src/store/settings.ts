import type { Db } from './db.ts';

/** Small named values the deployment keeps between starts (the admin token's hash). */
export class Settings {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async get(key: string): Promise<string | null> {
    const row = await this.#db.get<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
    return row?.value ?? null;
  }

  /** Stores `value` unless the key exists; returns the value that won (first writer wins). */
  async setIfAbsent(key: string, value: string): Promise<string> {
    await this.#db.run('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
      key,
      value,
    ]);
    return (await this.get(key)) ?? value;
  }
}
