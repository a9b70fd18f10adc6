// Replaces every occurrence of the given values (the job's secrets, the runner's token) with
// `***`; longer values first, so one that contains another is masked whole.
export function createMask(values: readonly string[]): (text: string) => string {
  const hidden = [...new Set(values.filter((v) => v.length >= 3))].sort(
    (a, b) => b.length - a.length,
  );
  return (text) => hidden.reduce((acc, v) => acc.split(v).join('***'), text);
}
