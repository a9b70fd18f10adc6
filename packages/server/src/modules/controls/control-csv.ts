import type { CatalogItem } from './control-service.ts';

export const catalogCsvColumns = [
  'project',
  'environment',
  'check',
  'control',
  'title',
  'state',
  'since',
  'message',
  'evidence',
] as const;

// RFC 4180: quoted when needed, quotes doubled, CRLF line ends. A cell that a spreadsheet would
// read as a formula gets a leading apostrophe (CSV injection).
function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

// One header row, then one row per (environment, check).
export function catalogCsv(items: readonly CatalogItem[]): string {
  const rows = [catalogCsvColumns.join(',')];
  for (const i of items)
    rows.push(
      [
        i.project,
        i.environment,
        i.check,
        i.control,
        i.title,
        i.state,
        i.since ?? '',
        i.message,
        JSON.stringify(i.evidence),
      ]
        .map(cell)
        .join(','),
    );
  return rows.join('\r\n') + '\r\n';
}
