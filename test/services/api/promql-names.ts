/**
 * Test support: the metric names a PromQL expression (or a Grafana variable query) reads, and
 * whether a Prometheus exposition exports them, so that the shipped rules and dashboard are
 * checked against a real `/metrics`.
 */

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** The metric names an expression selects: identifiers that are not functions, keywords, labels. */
export function metricNames(expr: string): string[] {
  const labelValues = /^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(expr);
  if (labelValues?.[1] !== undefined) return [labelValues[1]];
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = text.slice((match.index ?? 0) + match[0].length).trimStart();
    if (rest.startsWith('(')) continue;
    if (KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** True when the exposition declares the metric (`# TYPE name`), or the histogram it belongs to. */
export function exports(exposition: string, name: string): boolean {
  if (exposition.includes(`\n# TYPE ${name} `) || exposition.startsWith(`# TYPE ${name} `)) {
    return true;
  }
  const suffix = HISTOGRAM_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix === undefined) return false;
  const base = name.slice(0, -suffix.length);
  return new RegExp(`^# TYPE ${base} (histogram|summary)$`, 'm').test(exposition);
}
