/**
 * The page every webview of the extension is: a strict Content-Security-Policy (nothing by default,
 * styles and the one script only by nonce, no remote resource), one root element the script renders
 * into, and the escaping every piece of generated HTML goes through. Free of `vscode`: unit tested.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** A fresh nonce per page (32 characters of [A-Za-z0-9]). */
export function makeNonce(random: (max: number) => number = (max) => Math.floor(Math.random() * max)): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 32 }, () => alphabet[random(alphabet.length)]).join('');
}

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export interface WebviewPage {
  readonly title: string;
  readonly nonce: string;
  /** The webview URI of the bundled script (dist/webview-runs.js). */
  readonly scriptUri: string;
  /** Which view the script renders (`compare` or `metrics`). */
  readonly view: string;
  readonly styles: string;
}

export function webviewPage(page: WebviewPage): string {
  const nonce = escapeHtml(page.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(page.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(page.title)}</title>
<style nonce="${nonce}">${page.styles}</style>
</head>
<body data-view="${escapeHtml(page.view)}">
<main id="root"><p class="loading">Loading…</p></main>
<script nonce="${nonce}" src="${escapeHtml(page.scriptUri)}"></script>
</body>
</html>`;
}
