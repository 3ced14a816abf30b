import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface BotProcess {
  url: string;
  logs: string[];
  /** SIGTERM and wait: the bot drains follow-up work and closes its store. */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash, nothing drained, nothing closed. */
  kill(): Promise<void>;
}

const root = join(__dirname, '..', '..');

/** Starts the bot as `npm start` does (its own process, real sockets), on a free port. */
export async function startBotProcess(env: Record<string, string>): Promise<BotProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bot did not start:\n${logs.join('')}`)), 30_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      logs.push(text);
      for (const line of text.split('\n')) {
        if (!line.includes('bot listening')) continue;
        clearTimeout(timer);
        const listening = JSON.parse(line) as { url: string };
        resolve(listening.url.replace('/api/messages', '').replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`bot exited with ${code}:\n${logs.join('')}`)); });
  });
  const exitOn = (signal: NodeJS.Signals) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill(signal);
  });
  return {
    url,
    logs,
    stop: () => exitOn('SIGTERM'),
    kill: () => exitOn('SIGKILL'),
  };
}
