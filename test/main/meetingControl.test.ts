/**
 * Meeting mode from the tray and the global hotkey, against a real copilot on the embedded
 * emulator (scripted microphone and system audio): the hotkey starts and stops it, the tray
 * says which a click will do, and a start the host refuses is shown in the tray menu.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandChannels } from '../../app/contract';
import { createCopilot, type Copilot } from '../../app/host/copilot';
import { fastScheduler, RecordingSink, ScriptedMic } from '../../app/testing';
import { meetingAccelerator, startMeetingControl, type MeetingControl } from '../../main/meetingControl';
import { createTray, type TrayDeps } from '../../main/tray';
import { recordingLogger, testDeps } from '../support/copilot';
import * as electron from '../support/fakeElectron';

let copilot: Copilot | null = null;
let control: MeetingControl | null = null;
beforeEach(() => electron.resetFakeElectron());
afterEach(async () => {
  control?.close();
  control = null;
  await copilot?.close();
  copilot = null;
});

const deps = { Tray: electron.Tray, Menu: electron.Menu, nativeImage: electron.nativeImage, platform: 'linux' } as unknown as TrayDeps;

async function setUp(options: { voice?: boolean } = {}) {
  copilot = createCopilot({
    ...testDeps({}),
    ...(options.voice === false ? { voice: undefined } : { voice: { createMic: () => new ScriptedMic(), createSystemAudio: () => new ScriptedMic(), createSpeaker: () => new RecordingSink(), scheduler: fastScheduler(20) } }),
  });
  await copilot.start();
  const running = copilot;
  const parley = createTray(deps, { isWindowVisible: () => true, toggleWindow: () => undefined, toggleMeeting: () => void control?.toggle(), quit: () => undefined });
  control = startMeetingControl({
    call: (channel, payload) => running.call(channel, payload),
    onEvent: (listener) => running.onEvent(listener),
    globalShortcut: electron.globalShortcut,
    platform: 'linux',
    onChange: (state) => parley.setMeeting(state),
    log: recordingLogger(),
  });
  const [tray] = electron.Tray.created;
  if (tray === undefined) throw new Error('no tray');
  return { tray, running, control };
}

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
};

describe('meeting mode from the tray and the global hotkey', () => {
  it('starts and stops with Ctrl+Alt+M anywhere, and the tray offers what a click will do', async () => {
    const { tray, running, control: meeting } = await setUp();
    expect(tray.item('Start meeting')?.label).toBe('Start meeting (Ctrl+Alt+M)');
    electron.globalShortcut.press(meetingAccelerator);
    await until(() => meeting.state.live);
    expect(await running.call(commandChannels.getMeeting, {})).toMatchObject({ ok: true, value: { live: true } });
    expect(tray.item('Stop meeting')?.label).toBe('Stop meeting (Ctrl+Alt+M)');
    tray.item('Stop meeting')?.click?.();
    await until(() => !meeting.state.live);
    expect(await running.call(commandChannels.getMeeting, {})).toMatchObject({ ok: true, value: { live: false } });
    expect(tray.item('Start meeting')).toBeDefined();
  });

  it('follows a meeting started in the window', async () => {
    const { tray, running, control: meeting } = await setUp();
    await running.call(commandChannels.startMeeting, {});
    await until(() => meeting.state.live);
    expect(tray.item('Stop meeting')).toBeDefined();
  });

  it('shows in the tray menu why a meeting could not start', async () => {
    const { tray, control: meeting } = await setUp({ voice: false });
    tray.item('Start meeting')?.click?.();
    await until(() => meeting.state.problem !== null);
    expect(tray.menu?.items.some((item) => item.label === '  Meeting mode needs a microphone, and this window has none.')).toBe(true);
    expect(tray.item('Start meeting')).toBeDefined();
  });

  it('says so in the tray when another program holds the hotkey', async () => {
    electron.globalShortcut.taken.add(meetingAccelerator);
    const { tray } = await setUp();
    expect(tray.item('Start meeting')?.label).toBe('Start meeting');
  });
});
