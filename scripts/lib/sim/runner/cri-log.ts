/**
 * A container's log in the CRI format the kubelet reads (`<RFC 3339 nano time> <stream> F <line>`,
 * kubernetes/cri-api logs spec), which kwok serves for `kubectl logs`: `current.log` for the
 * running container and `previous.log` for the one before the last restart (`--previous`).
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** `2026-11-30T07:00:00.123000000Z`: RFC 3339 with nanoseconds, as CRI log lines carry it. */
export function criTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export class ContainerLog {
  readonly current: string;
  readonly previous: string;
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.current = join(dir, 'current.log');
    this.previous = join(dir, 'previous.log');
    if (!existsSync(this.current)) writeFileSync(this.current, '');
    if (!existsSync(this.previous)) writeFileSync(this.previous, '');
  }

  /** A new container instance: the current log becomes the previous one. */
  rotate(): void {
    this.flush();
    if (existsSync(this.current)) renameSync(this.current, this.previous);
    writeFileSync(this.current, '');
  }

  line(stream: 'stdout' | 'stderr', text: string): void {
    appendFileSync(this.current, `${criTime()} ${stream} F ${text}\n`);
  }

  /** Copies a child's output into the log, line by line. */
  attach(stream: 'stdout' | 'stderr', from: Readable | null): void {
    from?.setEncoding('utf8').on('data', (chunk: string) => {
      const text = this.partial[stream] + chunk;
      const lines = text.split('\n');
      this.partial[stream] = lines.pop() ?? '';
      if (lines.length) appendFileSync(this.current, lines.map((l) => `${criTime()} ${stream} F ${l}\n`).join(''));
    });
  }

  private flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.line(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }
}
