// /docs: the OpenAPI document as one self-contained HTML page, rendered on the server. No script and
// nothing fetched from anywhere (its Content-Security-Policy says so), so it works offline.
type Json = Record<string, any>;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pre = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h2{margin-top:2em;border-bottom:1px solid #ccc}details{margin:.4em 0;border:1px solid #ddd;border-radius:4px;padding:.3em .6em}
summary{cursor:pointer}code.m{display:inline-block;min-width:4.5em;font-weight:bold}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em}table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}nav a{margin-right:1em}`;

function operation(path: string, method: string, op: Json): string {
  const params: Json[] = op.parameters ?? [];
  const parts = [`<details><summary><code class="m">${method.toUpperCase()}</code> <code>${escape(path)}</code>${op['x-iam-action'] ? ` <small>${escape(op['x-iam-action'])}</small>` : ''}</summary>`];
  parts.push(`<p>Credentials: ${op.security?.length ? 'SDK-HMAC-SHA256 signature or X-Auth-Token' : 'none'}</p>`);
  if (params.length) {
    const rows = params.map((p) => `<tr><td><code>${escape(p.name)}</code></td><td>${escape(p.in)}</td><td>${p.required ? 'yes' : ''}</td><td><code>${escape(JSON.stringify(p.schema ?? {}))}</code></td></tr>`);
    parts.push(`<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Schema</th></tr>${rows.join('')}</table>`);
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body) parts.push(`<p>Request body (application/json):</p>${pre(body)}`);
  for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
    const schema = response.content?.['application/json']?.schema;
    parts.push(`<p>Response ${escape(status)}: ${escape(response.description ?? '')}</p>${schema ? pre(schema) : ''}`);
  }
  parts.push('</details>');
  return parts.join('\n');
}

export function docsPage(doc: Json): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries<Json>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<Json>(methods)) {
      const tag = op.tags?.[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(operation(path, method, op));
    }
  }
  const shared = Object.entries<Json>(doc.components?.schemas ?? {});
  if (shared.length) {
    byTag.set('Schemas', shared.map(([name, schema]) => `<details id="${escape(name)}"><summary><code>#/components/schemas/${escape(name)}</code></summary>${pre(schema)}</details>`));
  }
  const sections = [...byTag].map(([tag, ops], i) => `<h2 id="t${i}">${escape(tag)}</h2>\n${ops.join('\n')}`);
  const nav = [...byTag.keys()].map((tag, i) => `<a href="#t${i}">${escape(tag)}</a>`).join('');
  const schemes = Object.entries<Json>(doc.components?.securitySchemes ?? {}).map(([name, s]) => `<li><b>${escape(name)}</b> (header <code>${escape(s.name)}</code>): ${escape(s.description ?? '')}</li>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)} API</title><style>${STYLE}</style></head>
<body><h1>${escape(doc.info.title)} API</h1><p>${escape(doc.info.description ?? '')}</p>
<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escape(doc.openapi)}).</p>
<ul>${schemes.join('')}</ul><nav>${nav}</nav>
${sections.join('\n')}
</body></html>
`;
}
