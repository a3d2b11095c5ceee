import { vi } from 'vitest';

// `require('electron')` in plain Node yields only a path, so main-process tests get the recorder.
vi.mock('electron', () => import('./fakeElectron'));
