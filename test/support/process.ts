import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, TEST_MASTER_KEY } from './harness.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface ArautoProcess {
  proc: ChildProcess;
  /** http://127.0.0.1:<port> once the API listens (null for a dispatcher-only process). */
  url: string | null;
  output: string[];
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until a line of output matches (stdout and stderr arrive independently). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Runs the real `arauto` CLI in a child process, as an operator would. */
export async function spawnArauto(args: string[], env: Record<string, string>): Promise<ArautoProcess> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      ARAUTO_ADMIN_TOKEN: ADMIN_TOKEN,
      ARAUTO_ALLOW_PRIVATE_NETWORKS: 'true',
      ARAUTO_LOG_LEVEL: 'info',
      ARAUTO_MASTER_KEY: TEST_MASTER_KEY,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const dispatcherOnly = args.includes('--dispatcher-only');
  const exited = once(proc, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const listening = new Promise<string | null>((resolve, reject) => {
    const onLine = (line: string) => {
      output.push(line);
      if (line.includes('Arauto API listening')) resolve(JSON.parse(line).url);
      if (dispatcherOnly && line.includes('"dispatcher started"')) resolve(null);
    };
    for (const stream of [proc.stdout, proc.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', onLine);
    }
    void exited.then(({ code }) =>
      reject(new Error(`arauto exited (${code}) before listening:\n${output.join('\n')}`)),
    );
  });
  const url = await listening;
  const waitForOutput = async (pattern: RegExp, timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = output.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() > deadline) throw new Error(`no output matching ${pattern} in:\n${output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { proc, url, output, exited, waitForOutput };
}
