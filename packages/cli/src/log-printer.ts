import type { LogChunk } from './run-views.ts';
import { lineText, logText } from './terminal-text.ts';

// Renders log chunks with a header before each step's first chunk (`==> build / test`), and
// again when another step, or another attempt of the same step, continues the output. Escape
// sequences other than colours are dropped (terminal-text.ts); `--output json` has the raw text.
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
            `==> ${lineText(`${c.stage} / ${c.step}`)}${attempt > 1 ? ` (attempt ${attempt})` : ''}\n`;
          lineStart = true;
        }
        this.last = key;
      }
      const content = logText(c.content);
      if (content === '') continue;
      out += content;
      lineStart = content.endsWith('\n');
    }
    return out;
  }
}
