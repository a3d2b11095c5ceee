/**
 * A reply's Markdown as safe HTML, block by block. The model's text is untrusted: raw HTML in it
 * is shown as text, images become links (nothing loads from the web), only http and https links
 * keep their address, and DOMPurify checks the result against a short list of tags. Each
 * top-level block renders on its own, so while a reply streams only its last block changes and
 * the blocks above it keep their DOM (a selection, a focused Copy button) untouched.
 */
import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';

const markdown = new Marked({
  gfm: true,
  // Models break lines where they mean them; chat shows them as written.
  breaks: true,
  renderer: {
    // Raw HTML in a reply is shown as the text it is, never parsed.
    html: ({ text, block }: Tokens.HTML | Tokens.Tag) => (block ? `<p>${escapeHtml(text.trim())}</p>` : escapeHtml(text)),
    image: ({ href, text }: Tokens.Image) => `<a href="${escapeHtml(href)}">${escapeHtml(text === '' ? href : text)} (image)</a>`,
    code: ({ text, lang }: Tokens.Code) => {
      const language = /^[\w+#.-]{1,32}$/.exec(lang?.trim() ?? '')?.[0] ?? '';
      return (
        `<div class="code-block"><div class="code-head"><span class="code-lang">${escapeHtml(language || 'code')}</span>` +
        `<button type="button" class="copy-code" data-copy-code aria-label="Copy code">Copy</button></div>` +
        `<pre><code${language === '' ? '' : ` class="language-${escapeHtml(language)}"`}>${escapeHtml(text)}</code></pre></div>`
      );
    },
  },
});

const allowedTags = [
  'a', 'blockquote', 'br', 'button', 'code', 'del', 'div', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'input',
  'li', 'ol', 'p', 'pre', 'span', 'strong', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'ul',
];
const allowedAttributes = ['href', 'title', 'class', 'type', 'aria-label', 'data-copy-code', 'start', 'align', 'checked', 'disabled'];

/** Whether a link may leave Parley: an absolute http or https address, nothing else. */
export function isWebLink(href: string): boolean {
  return /^https?:$/.test(URL.parse(href)?.protocol ?? '');
}

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href');
    if (href === null || !isWebLink(href)) {
      node.removeAttribute('href');
    } else {
      // Should a click get past the transcript's handler, the link still opens apart from Parley.
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  }
  // Task-list boxes show a state; they are never controls.
  if (node.tagName === 'INPUT') node.setAttribute('disabled', '');
});

function sanitize(html: string): string {
  return DOMPurify.sanitize(html, { ALLOWED_TAGS: allowedTags, ALLOWED_ATTR: allowedAttributes });
}

/** Rendered blocks by their source, so a streaming reply re-renders only what changed. */
const rendered = new Map<string, string>();
const keepRendered = 500;

/** The reply's blocks as sanitized HTML, in order. */
export function renderMarkdown(source: string): string[] {
  const tokens = markdown.lexer(source);
  // Reference links resolve against the whole reply, so a block is only reused under the same ones.
  const links = Object.keys(tokens.links).length === 0 ? '' : JSON.stringify(tokens.links);
  const blocks: string[] = [];
  for (const token of tokens) {
    if (token.type === 'space' || token.type === 'def') continue;
    const key = `${links}\u0000${token.raw}`;
    let html = rendered.get(key);
    if (html === undefined) {
      html = sanitize(markdown.parser([token]));
      if (rendered.size >= keepRendered) rendered.delete(rendered.keys().next().value as string);
      rendered.set(key, html);
    }
    blocks.push(html);
  }
  return blocks;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
