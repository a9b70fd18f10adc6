// A report as a table: the same rows go out as JSON or as CSV (RFC 4180), so the two
// exports cannot disagree. Column order is the order of `columns`.
export type Cell = string | number | boolean | null;

export interface ReportTable<Row extends Record<string, Cell> = Record<string, Cell>> {
  readonly columns: readonly (keyof Row & string)[];
  readonly rows: readonly Row[];
}

export type ReportFormat = 'json' | 'csv';

// A spreadsheet runs a cell that starts with one of these as a formula; a leading quote
// keeps a value an attacker wrote (a commit message, a reason) inert.
const formulaStart = /^[=+\-@\t\r]/;

function csvCell(value: Cell): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && formulaStart.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(table: ReportTable): string {
  const lines = [table.columns.map(csvCell).join(',')];
  for (const row of table.rows)
    lines.push(table.columns.map((c) => csvCell(row[c] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
