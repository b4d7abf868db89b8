// The KEN panel's HTML with a strict Content-Security-Policy, and a checker for such policies.
//
// Findings that shaped the policy (checked in Chromium, scripts/check-html.mjs):
// - plotly.js-cartesian-dist-min has no eval / new Function (unlike the full bundle, whose WebGL
//   traces compile code), so script-src needs no 'unsafe-eval'.
// - plotly injects its CSS into <style id="plotly.js-style-global"> when it finds one; giving it that
//   element with our nonce lets it insert rules through the CSSOM, so style-src needs no 'unsafe-inline'.
// - plotly (through d3) writes a few style attributes with setAttribute('style', ...), which a strict
//   style-src blocks; webview/csp-shim.ts routes those through element.style (the CSSOM), which CSP allows.
// - @vscode-elements/elements (lit) uses constructable stylesheets and property bindings: no inline styles.

export interface WebviewHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh random nonce per render (base64 or hex). */
  nonce: string;
  /** In load order: the plotly bundle first, then webview.js. */
  scriptUris: string[];
  styleUris: string[];
  title: string;
  /** lang attribute (default en). */
  lang?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** For a double-quoted attribute value (keeps the policy's single quotes readable). */
export function escapeAttr(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The policy: nothing by default, scripts by nonce only, styles by nonce or from the extension. */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** The id plotly looks for before it injects its own <style> (see the note at the top). */
export const PLOTLY_STYLE_ID = 'plotly.js-style-global';

/** The panel HTML: CSP, stylesheets, the app's root element, then the scripts, all nonce-tagged. */
export function webviewHtml(opts: WebviewHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(opts.nonce)) throw new RangeError('webviewHtml: the nonce must be at least 16 characters of base64 or hex');
  const n = escapeHtml(opts.nonce);
  const styles = opts.styleUris.map((u) => `  <link rel="stylesheet" href="${escapeHtml(u)}" nonce="${n}">`).join('\n');
  const scripts = opts.scriptUris.map((u) => `  <script nonce="${n}" src="${escapeHtml(u)}"></script>`).join('\n');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(opts.lang ?? 'en')}">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(panelCsp(opts.cspSource, opts.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${escapeHtml(opts.title)}</title>
  <style id="${PLOTLY_STYLE_ID}" nonce="${n}"></style>
${styles}
</head>
<body>
  <div id="app" class="ken-app"></div>
${scripts}
</body>
</html>
`;
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? (m[2] ?? m[3] ?? m[4]) : undefined;
}

function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const REMOTE = /^(?:https?:|wss?:|ftp:|\/\/)/i;

/**
 * What in `html` breaks the panel's policy: no CSP meta, a default other than 'none', 'unsafe-eval' or
 * 'unsafe-inline' anywhere, remote origins or wildcards (other than the `allowed` sources, e.g.
 * webview.cspSource), a script or style element without the policy's nonce, inline event handlers,
 * javascript: URLs, remote script/style/image URLs. Empty when it is clean.
 */
export function checkCsp(html: string, allowed: readonly string[] = []): string[] {
  const problems: string[] = [];
  const allowedTokens = new Set(allowed.flatMap((a) => a.split(/\s+/)).filter(Boolean));
  const metas = [...html.matchAll(/<meta\b[^>]*>/gi)].map((m) => m[0]).filter((t) => /http-equiv\s*=\s*["']?content-security-policy/i.test(t));
  if (metas.length === 0) return ['no Content-Security-Policy meta element'];
  if (metas.length > 1) problems.push(`${metas.length} Content-Security-Policy meta elements (expected one)`);
  const policy = unescapeHtml(attr(metas[0]!, 'content') ?? '');
  const directives = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  const def = directives.get('default-src');
  if (!def || def.join(' ') !== "'none'") problems.push(`default-src is '${def?.join(' ') ?? '(absent)'}', expected 'none'`);
  const nonces = new Set<string>();
  for (const [name, values] of directives) {
    for (const v of values) {
      const lv = v.toLowerCase();
      if (lv === "'unsafe-eval'" || lv === "'wasm-unsafe-eval'") problems.push(`${name} allows ${v}`);
      else if (lv === "'unsafe-inline'") problems.push(`${name} allows 'unsafe-inline'`);
      else if (lv.startsWith("'nonce-")) nonces.add(v.slice(7, -1));
      else if (allowedTokens.has(v)) continue;
      else if (v === '*' || REMOTE.test(v) || /^[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?(?:\/|$)/i.test(v) || v.includes('*')) problems.push(`${name} allows the remote origin ${v}`);
    }
  }
  const scriptSrc = directives.get('script-src') ?? def ?? [];
  if (!scriptSrc.some((v) => v.startsWith("'nonce-"))) problems.push('script-src has no nonce');
  if (scriptSrc.some((v) => !v.startsWith("'nonce-") && v !== "'strict-dynamic'")) problems.push(`script-src allows more than its nonce: ${scriptSrc.join(' ')}`);

  // Only markup counts: the bodies of inline scripts and styles are code and CSS, not tags.
  const markup = html
    .replace(/(<script\b[^>]*>)[\s\S]*?<\/script\s*>/gi, '$1</script>')
    .replace(/(<style\b[^>]*>)[\s\S]*?<\/style\s*>/gi, '$1</style>');
  const remoteNotAllowed = (url: string): boolean => {
    if (!REMOTE.test(url)) return false;
    let origin: string;
    try {
      origin = new URL(url, 'https://x/').origin;
    } catch {
      return true;
    }
    for (const t of allowedTokens) {
      if (t === origin) return false;
      if (t.includes('*') && new RegExp(`^${t.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(origin)) return false;
    }
    return true;
  };
  for (const m of markup.matchAll(/<script\b[^>]*>/gi)) {
    const tag = m[0];
    const nonce = attr(tag, 'nonce');
    const type = attr(tag, 'type');
    const isData = type !== undefined && /json/i.test(type);
    if (!isData && (!nonce || !nonces.has(nonce))) problems.push(`script without the policy's nonce: ${tag.slice(0, 80)}`);
    const src = attr(tag, 'src');
    if (src && remoteNotAllowed(src)) problems.push(`script from a remote URL: ${src}`);
  }
  for (const m of markup.matchAll(/<style\b[^>]*>/gi)) {
    const nonce = attr(m[0], 'nonce');
    if (!nonce || !nonces.has(nonce)) problems.push(`style element without the policy's nonce: ${m[0].slice(0, 80)}`);
  }
  for (const m of markup.matchAll(/<(link|img|iframe|object|embed|source|audio|video)\b[^>]*>/gi)) {
    const url = attr(m[0], 'href') ?? attr(m[0], 'src');
    if (url && remoteNotAllowed(url)) problems.push(`<${m[1]!.toLowerCase()}> from a remote URL: ${url}`);
  }
  // Event handler attributes and javascript: URLs run without a nonce; a strict policy blocks them, so their presence is a bug.
  for (const m of markup.matchAll(/<[a-z][a-z0-9-]*\b[^>]*>/gi)) {
    const tag = m[0];
    if (/\son[a-z]+\s*=/i.test(tag)) problems.push(`inline event handler: ${tag.slice(0, 80)}`);
    if (/=\s*["']?\s*javascript:/i.test(tag)) problems.push(`javascript: URL: ${tag.slice(0, 80)}`);
  }
  return problems;
}
