/**
 * The renderer's Content-Security-Policy: only our own scripts and styles, no inline script, no
 * eval, no frames, no plugins. `connect-src 'self'` admits browser mode's same-origin WebSocket.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
