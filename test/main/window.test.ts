import { describe, expect, it } from 'vitest';
import type { WebContents } from 'electron';
import { lockNavigation, secureWebPreferences } from '../../main/window';
import { FakeWebContents } from '../support/fakeElectron';

describe('secureWebPreferences', () => {
  it('isolates and sandboxes the renderer with Node off', () => {
    const preferences = secureWebPreferences('/app/preload.cjs');
    expect(preferences.preload).toBe('/app/preload.cjs');
    for (const guard of ['contextIsolation', 'sandbox', 'webSecurity'] as const) expect(preferences[guard], guard).toBe(true);
    for (const opening of ['nodeIntegration', 'nodeIntegrationInWorker', 'nodeIntegrationInSubFrames', 'allowRunningInsecureContent', 'webviewTag'] as const) {
      expect(preferences[opening], opening).toBe(false);
    }
  });
});

describe('lockNavigation', () => {
  const contents = new FakeWebContents();
  lockNavigation(contents as unknown as WebContents, (url) => url === 'file:///app/index.html');

  function navigate(event: string, url: string): boolean {
    let prevented = false;
    contents.emit(event, { preventDefault: () => (prevented = true) }, url);
    return prevented;
  }

  it('keeps the window on our page', () => {
    expect(navigate('will-navigate', 'https://evil.example/')).toBe(true);
    expect(navigate('will-redirect', 'http://127.0.0.1:9/')).toBe(true);
    expect(navigate('will-navigate', 'file:///app/index.html')).toBe(false);
  });

  it('denies new windows and webviews', () => {
    expect(contents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(navigate('will-attach-webview', '')).toBe(true);
  });
});
