// Reading a cachectl process's output: the message of a JSON log line, or the line itself (pretty
// form, or output that is no log line). Scripts and tests wait for start-up lines by their message.
export function messageOf(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as { msg?: unknown };
    return typeof entry.msg === 'string' ? entry.msg : line;
  } catch {
    return line;
  }
}
