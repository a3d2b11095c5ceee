import { describe, expect, it } from 'vitest';
import type { Problem, ScreenSource } from '../../app/contract';
import { ScreenAsk, type ScreenAskPorts } from '../../renderer/lib/state/ScreenAsk.svelte';

const screens: ScreenSource[] = [
  { id: 'screen:0', name: 'Entire screen', kind: 'screen', thumbnail: 'data:image/png;base64,AA==' },
  { id: 'window:7', name: 'Notes', kind: 'window', thumbnail: 'data:image/png;base64,AA==' },
];

/** The flow's ports as a test drives them: what main offers, and a record of what reached it. */
function ports(offer: ScreenSource[] | 'page' | null, overrides: Partial<ScreenAskPorts> = {}) {
  const seen = { lists: 0, captured: [] as string[], asked: [] as { text: string; image: string; keep: boolean }[], problems: [] as Problem[], closed: 0 };
  const all: ScreenAskPorts = {
    screenSources: async () => {
      seen.lists += 1;
      return offer;
    },
    captureScreen: async (sourceId) => {
      seen.captured.push(sourceId);
      return `data:image/png;base64,${sourceId}`;
    },
    askAboutScreen: async (text, image, keep) => {
      seen.asked.push({ text, image, keep });
      return true;
    },
    report: (problem) => seen.problems.push(problem),
    captureDisplay: async () => 'data:image/png;base64,page',
    cropImage: async (url, rect) => `${url}#${rect.x},${rect.y},${rect.width}x${rect.height}`,
    closed: () => (seen.closed += 1),
    ...overrides,
  };
  return { all, seen };
}

const crop = { x: 10, y: 20, width: 300, height: 200 };

describe('Ask about my screen', () => {
  it('in the desktop app: offers the screens, captures the one picked, and sends only the cropped part', async () => {
    const { all, seen } = ports(screens);
    const flow = new ScreenAsk(all);
    await flow.ask();
    expect(flow.picking).toEqual(screens);
    await flow.pick(screens[1]!);
    expect(seen.captured).toEqual(['window:7']);
    expect(flow.picking).toBeNull();
    expect(flow.screenshot).toBe('data:image/png;base64,window:7');
    await flow.send('What does this say?', crop, false);
    expect(seen.asked).toEqual([{ text: 'What does this say?', image: 'data:image/png;base64,window:7#10,20,300x200', keep: false }]);
    expect(flow.open).toBe(false);
    expect(seen.closed).toBe(1);
  });

  it("in browser mode: the browser's own chooser gives the picture straight to the preview", async () => {
    const { all, seen } = ports('page');
    const flow = new ScreenAsk(all);
    await flow.ask();
    expect(flow.picking).toBeNull();
    expect(flow.screenshot).toBe('data:image/png;base64,page');
    expect(seen.captured).toEqual([]);
  });

  it('asks for permission once: a second ask while the picker is open changes nothing', async () => {
    const { all, seen } = ports(screens);
    const flow = new ScreenAsk(all);
    await flow.ask();
    await flow.ask();
    expect(seen.lists).toBe(1);
    expect(flow.picking).toEqual(screens);
  });

  it('refused permission opens nothing', async () => {
    const { all, seen } = ports(null);
    const flow = new ScreenAsk(all);
    await flow.ask();
    expect(flow.open).toBe(false);
    expect(flow.capturing).toBe(false);
    expect(seen.asked).toEqual([]);
  });

  it('says so in words when the browser refuses the capture, and a later ask starts afresh', async () => {
    let refuse = true;
    const { all, seen } = ports('page', {
      captureDisplay: async () => {
        if (refuse) throw new DOMException('Permission denied', 'NotAllowedError');
        return 'data:image/png;base64,page';
      },
    });
    const flow = new ScreenAsk(all);
    await flow.ask();
    expect(seen.problems.map((problem) => problem.message)).toEqual(['Screen capture was cancelled or refused by the browser.']);
    expect(flow.open).toBe(false);
    refuse = false;
    await flow.ask();
    expect(flow.screenshot).toBe('data:image/png;base64,page');
  });

  it('cancelling the picker or the preview sends nothing and gives the keyboard back', async () => {
    const { all, seen } = ports(screens);
    const flow = new ScreenAsk(all);
    await flow.ask();
    flow.cancelPick();
    expect(flow.open).toBe(false);
    expect(seen.captured).toEqual([]);
    await flow.ask();
    await flow.pick(screens[0]!);
    flow.cancel();
    expect(flow.screenshot).toBeNull();
    expect(seen.asked).toEqual([]);
    expect(seen.closed).toBe(2);
  });

  it('a capture refused at the prompt closes the flow without a preview', async () => {
    const { all, seen } = ports(screens, { captureScreen: async () => null });
    const flow = new ScreenAsk(all);
    await flow.ask();
    await flow.pick(screens[0]!);
    expect(flow.open).toBe(false);
    expect(seen.closed).toBe(1);
  });

  it('a picture that cannot be cropped is reported, not sent whole', async () => {
    const { all, seen } = ports('page', {
      cropImage: async () => {
        throw new Error('The screenshot could not be read.');
      },
    });
    const flow = new ScreenAsk(all);
    await flow.ask();
    await flow.send('What is this?', crop, false);
    expect(seen.asked).toEqual([]);
    expect(seen.problems.map((problem) => problem.message)).toEqual(['The screenshot could not be cropped: The screenshot could not be read.']);
  });
});
