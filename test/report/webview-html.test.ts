import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCsp, panelCsp, webviewHtml } from '../../src/report/webview-html';

const CSP_SOURCE = 'https://*.vscode-cdn.net';
const NONCE = 'r4nd0mN0nce1234567890abcd';
const RES = 'https://file+.vscode-resource.vscode-cdn.net/ext';

function html(): string {
  return webviewHtml({
    cspSource: CSP_SOURCE, nonce: NONCE, title: 'KEN <report>',
    scriptUris: [`${RES}/dist/plotly.min.js`, `${RES}/dist/webview.js`], styleUris: [`${RES}/dist/webview.css`],
  });
}

test('the panel HTML carries a strict policy and passes checkCsp', () => {
  const h = html();
  assert.deepEqual(checkCsp(h, [CSP_SOURCE]), []);
  assert.match(h, /default-src 'none'; script-src 'nonce-r4nd0mN0nce1234567890abcd'; style-src https:\/\/\*\.vscode-cdn\.net 'nonce-/);
  assert.doesNotMatch(h, /unsafe-eval|unsafe-inline/);
  assert.equal([...h.matchAll(/<script nonce="r4nd0mN0nce1234567890abcd" src=/g)].length, 2);
  assert.ok(h.indexOf('plotly.min.js') < h.indexOf('webview.js'), 'plotly loads first');
  assert.match(h, /<title>KEN &lt;report&gt;<\/title>/);
  assert.match(h, /<style id="plotly\.js-style-global" nonce=/);
  assert.match(panelCsp(CSP_SOURCE, NONCE), /img-src https:\/\/\*\.vscode-cdn\.net data: blob:/);
});

test('checkCsp reports each kind of violation', () => {
  const base = html();
  const cases: [string, RegExp][] = [
    [base.replace("script-src 'nonce-", "script-src 'unsafe-eval' 'nonce-"), /unsafe-eval/],
    [base.replace(`style-src ${CSP_SOURCE}`, `style-src 'unsafe-inline' ${CSP_SOURCE}`), /unsafe-inline/],
    [base.replace("default-src 'none'", 'default-src *'), /default-src/],
    [base.replace("script-src 'nonce-", "script-src https://cdn.example.com 'nonce-"), /remote origin https:\/\/cdn\.example\.com/],
    [base.replace('</body>', '<script>alert(1)</script></body>'), /script without the policy's nonce/],
    [base.replace('</body>', '<script nonce="wrong">1</script></body>'), /script without the policy's nonce/],
    [base.replace('</head>', '<style>body{}</style></head>'), /style element without/],
    [base.replace('</body>', `<script nonce="${NONCE}" src="https://cdn.example.com/x.js"></script></body>`), /remote URL/],
    [base.replace('</head>', '<link rel="stylesheet" href="http://evil.test/a.css"></head>'), /<link> from a remote URL/],
    [base.replace('<div id="app"', '<div onclick="x()" id="app"'), /inline event handler/],
    [base.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''), /no Content-Security-Policy/],
  ];
  for (const [h, re] of cases) {
    const problems = checkCsp(h, [CSP_SOURCE]);
    assert.ok(problems.some((p) => re.test(p)), `${re}: ${JSON.stringify(problems)}`);
  }
  // without the cspSource allowed, the wildcard origin itself is a violation
  assert.ok(checkCsp(base).some((p) => /remote origin/.test(p)));
});

test('code inside inline scripts is not mistaken for markup', () => {
  const h = html().replace('</body>', `<script nonce="${NONCE}">const s = '<img src="https://x.test/a.png" onclick="y">';</script></body>`);
  assert.deepEqual(checkCsp(h, [CSP_SOURCE]), []);
});

test('a weak nonce is refused', () => {
  assert.throws(() => webviewHtml({ cspSource: CSP_SOURCE, nonce: 'abc', scriptUris: [], styleUris: [], title: 't' }), RangeError);
  assert.throws(() => webviewHtml({ cspSource: CSP_SOURCE, nonce: "abc'; script-src *; x='aaaaaaaaaaaa", scriptUris: [], styleUris: [], title: 't' }), RangeError);
});
