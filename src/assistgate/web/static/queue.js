// The live queue: server-sent events say a request changed; the list is fetched again, new
// requests flash, are announced to screen readers, and (when switched on) sound.
"use strict";
(function () {
  const list = document.getElementById("queue-items");
  if (!list) return;
  const status = document.getElementById("live-status");
  const announce = document.getElementById("queue-announce");
  const banner = document.getElementById("new-banner");
  const soundButton = document.getElementById("sound-toggle");
  const baseTitle = document.title;
  let known = waiting();
  let pending = null;
  let audio = null;
  let soundOn = false;
  let bannerTimer = null;

  function waiting() {
    return new Set(
      Array.from(list.querySelectorAll("[data-state=awaiting_review]"), (el) => el.dataset.ref)
    );
  }

  function setStatus(text, live) {
    status.textContent = text;
    status.className = "live " + (live ? "on" : "off");
  }

  function showTitle(count) {
    document.title = (count ? "(" + count + ") " : "") + baseTitle;
  }

  function beep() {
    try {
      audio = audio || new AudioContext();
      const start = audio.currentTime;
      [880, 660, 880].forEach((frequency, i) => {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        const at = start + i * 0.2;
        tone.frequency.value = frequency;
        gain.gain.setValueAtTime(0.25, at);
        gain.gain.exponentialRampToValueAtTime(0.001, at + 0.18);
        tone.connect(gain).connect(audio.destination);
        tone.start(at);
        tone.stop(at + 0.19);
      });
    } catch (error) { /* no sound: the flash and the announcement remain */ }
  }

  function arrived(refs) {
    refs.forEach((ref) => {
      const item = list.querySelector('[data-ref="' + CSS.escape(ref) + '"]');
      if (item) item.classList.add("flash");
    });
    const text = (refs.length === 1 ? "New request " : "New requests ") + refs.join(", ") +
      " awaiting review.";
    banner.textContent = text;
    banner.hidden = false;
    announce.textContent = text;
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(() => { banner.hidden = true; }, 20000);
    if (soundOn) beep();
  }

  function ended() {
    setStatus("Live updates stopped: your session has ended. Reload the page to sign in.", false);
  }

  async function load() {
    pending = null;
    let response;
    try {
      response = await fetch("/queue/rows", { credentials: "same-origin", cache: "no-store" });
    } catch (error) {
      setStatus("Reconnecting…", false);
      return;
    }
    if (response.status === 401) { ended(); return; }
    if (!response.ok) return;
    list.innerHTML = await response.text();
    const now = waiting();
    const fresh = Array.from(now).filter((ref) => !known.has(ref));
    known = now;
    showTitle(now.size);
    if (fresh.length) arrived(fresh);
  }

  function refresh() {
    if (pending === null) pending = setTimeout(load, 30); // one fetch for a burst of changes
  }

  soundButton.addEventListener("click", () => {
    soundOn = !soundOn;
    soundButton.setAttribute("aria-pressed", String(soundOn));
    soundButton.textContent = "Sound on new requests: " + (soundOn ? "on" : "off");
    if (soundOn) beep(); // browsers allow sound once a person has pressed something
  });

  showTitle(known.size);
  if (!window.EventSource) {
    setStatus("This browser cannot receive live updates: reload to see new requests.", false);
    return;
  }
  const source = new EventSource("/queue/events");
  source.addEventListener("hello", () => { setStatus("Live", true); refresh(); });
  source.addEventListener("change", refresh);
  source.addEventListener("ended", () => { source.close(); ended(); });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) ended();
    else setStatus("Reconnecting…", false);
  };
})();
