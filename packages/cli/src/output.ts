// Human-readable by default; `--output json` prints exactly one JSON document on stdout.
export type OutputFormat = 'text' | 'json';

export interface Output {
  readonly format: OutputFormat;
  // Prints `data` as JSON, or calls `text` to render it for people.
  result(data: unknown, text: () => string): void;
  info(message: string): void;
}

export function createOutput(
  format: OutputFormat,
  write: (s: string) => void = (s) => process.stdout.write(s),
  warn: (s: string) => void = (s) => process.stderr.write(s),
): Output {
  return {
    format,
    result(data, text) {
      write(format === 'json' ? JSON.stringify(data, null, 2) + '\n' : ensureNewline(text()));
    },
    info(message) {
      warn(ensureNewline(message));
    },
  };
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') || s === '' ? s : s + '\n';
}

export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
      .join('\n') + '\n'
  );
}
