import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { maxMessageLength } from '../../app/contract';
import Composer from '../../renderer/components/Composer.svelte';

function renderComposer() {
  const onSend = vi.fn(async () => true);
  render(Composer, { props: { disabled: false, onSend } });
  return { onSend, box: screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Message' }), send: screen.getByRole('button', { name: 'Send' }) };
}

describe('Composer', () => {
  it('refuses a message over the contract limit with a clear reason before sending, and keeps the text', async () => {
    const { onSend, box, send } = renderComposer();
    const pasted = 'x'.repeat(maxMessageLength + 1_250);
    await fireEvent.input(box, { target: { value: pasted } });

    expect(screen.getByRole('alert').textContent?.trim()).toBe('This message is 33,250 characters; the limit is 32,000. Shorten it or send it in parts.');
    expect(box.getAttribute('aria-invalid')).toBe('true');
    expect(send).toHaveProperty('disabled', true);
    await fireEvent.keyDown(box, { key: 'Enter' });
    await fireEvent.submit(box.form!);
    expect(onSend).not.toHaveBeenCalled();
    expect(box.value).toBe(pasted);
  });

  it('sends a message of exactly the limit (surrounding spaces do not count, as in the contract)', async () => {
    const { onSend, box, send } = renderComposer();
    const longest = ` ${'x'.repeat(maxMessageLength)}\n`;
    await fireEvent.input(box, { target: { value: longest } });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(send).toHaveProperty('disabled', false);
    await fireEvent.click(send);
    expect(onSend).toHaveBeenCalledWith(longest);
  });

  it('offers Stop while the agent answers, and Stop cancels it', async () => {
    const onStop = vi.fn();
    const { rerender } = render(Composer, { props: { disabled: false, onSend: async () => true, busy: false, onStop } });
    expect(screen.queryByRole('button', { name: 'Stop' })).toBeNull();
    await rerender({ busy: true });
    await fireEvent.click(screen.getByRole('button', { name: 'Stop' }));
    expect(onStop).toHaveBeenCalledOnce();
  });
});
