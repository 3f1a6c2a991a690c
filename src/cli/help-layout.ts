// The usage text's layout: a synopsis, then its help wrapped from column 36 (as main.ts's server usage).
export interface UsageEntry {
  synopsis: string;
  help: string;
}

const COLUMN = 36;
const WIDTH = 104;

/** Words, keeping a bracketed group ("[--type web|download]") in one piece. */
function words(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let word = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    if (ch === ']') depth = Math.max(0, depth - 1);
    if (/\s/.test(ch) && depth === 0) {
      if (word) out.push(word);
      word = '';
    } else word += ch;
  }
  if (word) out.push(word);
  return out;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words(text)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export function usageOf(entries: readonly UsageEntry[]): string {
  const out: string[] = [];
  const indent = ' '.repeat(COLUMN);
  for (const e of entries) {
    const synopsis = wrap(e.synopsis, WIDTH - 2).map((l, i) => (i === 0 ? `  ${l}` : `      ${l}`));
    const help = wrap(e.help, WIDTH - COLUMN);
    const last = synopsis[synopsis.length - 1];
    if (synopsis.length === 1 && last.length < COLUMN - 1) {
      out.push(last.padEnd(COLUMN) + help[0]);
      help.shift();
    } else out.push(...synopsis);
    out.push(...help.map((h) => indent + h));
  }
  return out.join('\n');
}

export const GLOBAL_HELP = `Client options:
  --json                            print the API's raw JSON answers, one per line, instead of tables;
                                    an error is one JSON line on stderr ({"error_code", "error_msg"})
  --profile NAME                    the API and keys of a profile in the client config (default:
                                    CACHECTL_PROFILE; cachectl profiles set saves one)
  --api URL                         the API (default: CACHECTL_API, else the "api" of credentials.json
                                    or the profile, else http://127.0.0.1:8080)
  --data-dir DIR                    where the server's credentials.json is (default ./data)
  Keys come from --profile, else CACHECTL_AK and CACHECTL_SK (or HUAWEICLOUD_SDK_AK and _SK), else
  <data-dir>/credentials.json, else (no --data-dir, no ./data/credentials.json) the "default" profile
  of $XDG_CONFIG_HOME/cachectl/config (~/.config/cachectl/config). Exit codes: 0 success, 1 API or
  network error or failed URLs, 2 usage error or no keys.`;
