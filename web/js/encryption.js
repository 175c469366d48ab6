// The "Encryption" part of the settings form: this server's recipient (the public key, to copy;
// the identity never reaches the page), the switch, extra recipients (one `age1…` per line), the
// passphrase file, and the warning that a lost key means lost backups.
import { $, say, unsay } from './dom.js';

const form = () => $('#settings-form');
const input = (name) => form().elements.namedItem(`encryption.${name}`);

/** Shows the saved encryption settings. */
export function fillEncryption(encryption) {
  if (!encryption) return;
  input('enabled').checked = encryption.enabled;
  input('recipients').value = (encryption.recipients ?? []).join('\n');
  input('passphrase_file').value = encryption.passphrase_file ?? '';
  const recipient = $('#encryption-recipient');
  recipient.textContent = encryption.recipient ?? '';
  recipient.hidden = !encryption.recipient;
  $('#encryption-copy').hidden = !encryption.recipient;
  say($('#encryption-recipient-hint'), encryption.recipient ? 'encryption.recipient_hint' : 'encryption.no_key');
  const mode = $('#encryption-mode');
  if (encryption.enabled && encryption.mode) {
    say(mode, `encryption.mode.${encryption.mode}`);
  } else {
    unsay(mode);
  }
}

/** The `encryption` object of a PUT (the read-only fields are left out). */
export function collectEncryption() {
  const recipients = input('recipients')
    .value.split(/[\s,]+/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return {
    enabled: input('enabled').checked,
    recipients,
    passphrase_file: input('passphrase_file').value.trim() || null,
  };
}

/** Copies the recipient; where the clipboard is not allowed, selects it for the person to copy. */
async function copyRecipient() {
  const recipient = $('#encryption-recipient');
  const hint = $('#encryption-recipient-hint');
  try {
    await navigator.clipboard.writeText(recipient.textContent);
    say(hint, 'encryption.copied');
  } catch {
    const range = document.createRange();
    range.selectNodeContents(recipient);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    say(hint, 'encryption.copy_by_hand');
  }
}

export function setUpEncryption() {
  $('#encryption-copy').addEventListener('click', copyRecipient);
}
