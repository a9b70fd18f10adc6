import type { LogChunk } from './run-views.ts';

// Renders log chunks with a header before each step's first chunk (`==> build / test`), and
// again when another step, or another attempt of the same step, continues the output.
export class LogPrinter {
  private last: string | undefined;
  private skipFirst: boolean;

  // `firstHeader: false` for one step's logs (`--step`): its output stays as it was written,
  // and a header appears only when another attempt or a second matching step follows.
  constructor(options: { firstHeader: boolean }) {
    this.skipFirst = !options.firstHeader;
  }

  render(chunks: readonly LogChunk[], atLineStart: boolean): string {
    let out = '';
    let lineStart = atLineStart;
    for (const c of chunks) {
      const attempt = c.attempt ?? 1;
      const key = `${c.stage}\u0000${c.step}\u0000${attempt}`;
      if (key !== this.last) {
        if (this.skipFirst) this.skipFirst = false;
        else {
          out +=
            (lineStart ? '' : '\n') +
            `==> ${c.stage} / ${c.step}${attempt > 1 ? ` (attempt ${attempt})` : ''}\n`;
          lineStart = true;
        }
        this.last = key;
      }
      if (c.content === '') continue;
      out += c.content;
      lineStart = c.content.endsWith('\n');
    }
    return out;
  }
}
