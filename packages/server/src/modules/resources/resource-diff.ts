import { stringify } from 'yaml';

export interface DiffLine {
  op: ' ' | '+' | '-';
  text: string;
}

// A line diff of the YAML renderings (longest common subsequence): resources are small,
// and reviewers read YAML, so this is what `custody diff` shows.
export function diffDocuments(a: unknown, b: unknown): DiffLine[] {
  const x = stringify(a).trimEnd().split('\n');
  const y = stringify(b).trimEnd().split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] =
        x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: ' ', text: x[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      out.push({ op: '-', text: x[i++]! });
    } else {
      out.push({ op: '+', text: y[j++]! });
    }
  }
  while (i < n) out.push({ op: '-', text: x[i++]! });
  while (j < m) out.push({ op: '+', text: y[j++]! });
  return out;
}
