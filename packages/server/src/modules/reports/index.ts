export { reportPermissions } from './permissions.ts';
export { reportErrors } from './errors.ts';
export { assembleReports, type ReportDeps } from './report-assembly.ts';
export { toCsv, type ReportTable, type ReportFormat, type Cell } from './report-table.ts';
export { parsePeriod, type ReportPeriod } from './report-period.ts';
