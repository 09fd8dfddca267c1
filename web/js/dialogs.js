// dialogs: the "remove?" question (with the choice to delete the file too)
// and the player for finished audio and video. Both are <dialog> elements:
// modal, Escape closes them, the focus returns where it was.

import { fileUrl } from './api.js';

// confirmRemove(what, canDeleteFile) -> Promise<{remove, deleteFile}>.
// what: the text of the question ("video.mp4", "3 jobs").
export function confirmRemove(what, canDeleteFile) {
  const dlg = document.getElementById('remove-dialog');
  const whatEl = document.getElementById('remove-what');
  const box = document.getElementById('remove-delete-file');
  const label = document.getElementById('remove-file-label');
  whatEl.textContent = what;
  box.checked = false;
  label.hidden = !canDeleteFile;
  dlg.returnValue = '';
  return new Promise((resolve) => {
    dlg.addEventListener(
      'close',
      () => resolve({ remove: dlg.returnValue === 'remove', deleteFile: canDeleteFile && box.checked }),
      { once: true },
    );
    dlg.showModal();
    document.getElementById('remove-keep').focus();
  });
}

let playerReady = false;

// play(job, kind, name): opens the player on the job's file; kind is
// "video" or "audio".
export function play(job, kind, name) {
  const dlg = document.getElementById('player-dialog');
  const slot = document.getElementById('player-slot');
  if (!playerReady) {
    playerReady = true;
    document.getElementById('player-close').addEventListener('click', () => dlg.close());
    // Stop the download of the media when the player closes.
    dlg.addEventListener('close', () => {
      for (const m of slot.querySelectorAll('video, audio')) {
        m.pause();
        m.removeAttribute('src');
        m.load();
      }
      slot.replaceChildren();
    });
  }
  document.getElementById('player-title').textContent = name;
  const media = document.createElement(kind === 'audio' ? 'audio' : 'video');
  media.controls = true;
  media.preload = 'metadata';
  media.src = fileUrl(job.id);
  media.setAttribute('aria-label', name);
  slot.replaceChildren(media);
  dlg.showModal();
  media.focus();
  media.play().catch(() => {
    /* autoplay refused or the format is not playable: the controls stay */
  });
}
