/** The permission prompt in plain words: what will happen, why it asks (once), the arguments readable. */
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { PermissionDecision, PermissionRequest } from '../../app/contract';
import PermissionDialog from '../../renderer/components/PermissionDialog.svelte';
import { argumentFields } from '../../renderer/lib/permission';

const longText = `buy milk ${'and more eggs '.repeat(20)}`.trim();

function request(overrides: Partial<PermissionRequest> = {}): PermissionRequest {
  return {
    requestId: 'req_1',
    callId: 'call_1',
    name: 'save_note',
    risk: 'write',
    arguments: { text: longText, title: 'Shopping' },
    summary: 'Parley wants to save a note: “buy milk and more eggs and more eggs and more eggs and…”',
    reason: 'It changes something on your computer.',
    ...overrides,
  };
}

describe('permission prompt', () => {
  it('says what will happen, the reason once, and each argument under its label, long ones cut', async () => {
    const answers: PermissionDecision[] = [];
    render(PermissionDialog, { props: { request: request(), onAnswer: (decision) => answers.push(decision) } });
    const dialog = screen.getByRole('dialog', { hidden: true });
    expect(screen.getByRole('heading', { hidden: true }).textContent).toBe(request().summary);
    expect(dialog.textContent).not.toContain('save_note?');
    expect(dialog.textContent?.match(/changes/g)).toHaveLength(1);
    const labels = [...dialog.querySelectorAll('dt')].map((term) => term.textContent);
    expect(labels).toEqual(['Text', 'Title']);
    const text = dialog.querySelector('dd .value');
    expect(text?.textContent).toHaveLength(160);
    expect(text?.textContent?.endsWith('…')).toBe(true);
    expect(dialog.textContent).not.toContain('{');
    await fireEvent.click(screen.getByRole('button', { name: `Show all ${longText.length} characters`, hidden: true }));
    expect(dialog.querySelector('dd .value')?.textContent).toBe(longText);
    expect(dialog.textContent).toContain('“Always allow” is kept in Settings → Tool permissions; Revoke there makes Parley ask again.');
    await fireEvent.click(screen.getByRole('button', { name: 'Always allow', hidden: true }));
    expect(answers).toEqual(['always']);
  });

  it('labels arguments in words and shows nested values as text', () => {
    expect(argumentFields({ file_path: '/a', maxResults: 3, options: { deep: true } }).map(({ label, value }) => [label, value])).toEqual([
      ['File path', '/a'],
      ['Max results', '3'],
      ['Options', '{"deep":true}'],
    ]);
    expect(argumentFields({})).toEqual([]);
    expect(argumentFields('raw')).toEqual([{ label: 'Arguments', value: 'raw', short: 'raw' }]);
  });
});
