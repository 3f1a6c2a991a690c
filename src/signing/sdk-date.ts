// X-Sdk-Date values (`YYYYMMDDTHHMMSSZ`, spec §13.1): written by the signer, read back by the API's verification.

/** 'YYYYMMDDTHHMMSSZ' → epoch ms, or null if malformed. */
export function parseSdkDate(value: string): number | null {
  if (typeof value !== 'string' || value.length !== 16) return null;
  if (value.charCodeAt(8) !== 0x54 /* T */ || value.charCodeAt(15) !== 0x5a /* Z */) return null;
  for (let i = 0; i < 15; i++) {
    if (i === 8) continue;
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
  }
  const d = (i: number): number => value.charCodeAt(i) - 0x30;
  const year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
  const month = d(4) * 10 + d(5);
  const day = d(6) * 10 + d(7);
  const hour = d(9) * 10 + d(10);
  const minute = d(11) * 10 + d(12);
  const second = d(13) * 10 + d(14);
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Rejects days past the end of the month (Date.UTC would roll them over). Also guards years 0-99,
  // which Date.UTC maps to 1900-1999: the round trip then fails on the year.
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCDate() !== day) return null;
  return ms;
}

const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

export function formatSdkDate(ms: number): string {
  const t = new Date(ms);
  const y = t.getUTCFullYear();
  return (
    (y < 1000 ? String(y).padStart(4, '0') : String(y)) +
    pad2(t.getUTCMonth() + 1) +
    pad2(t.getUTCDate()) +
    'T' +
    pad2(t.getUTCHours()) +
    pad2(t.getUTCMinutes()) +
    pad2(t.getUTCSeconds()) +
    'Z'
  );
}
