// Short notification sounds, synthesized with WebAudio: no sound files
// to ship or license. Each is a few tones under half a second.

let ctx = null;

// The notes of each sound: [frequency Hz, start s, length s, wave].
const sounds = {
  chime: [[880, 0, 0.18, 'sine'], [1318.5, 0.12, 0.3, 'sine']],
  bell: [[1046.5, 0, 0.45, 'triangle'], [2093, 0, 0.25, 'sine']],
  pop: [[520, 0, 0.07, 'square'], [780, 0.06, 0.08, 'sine']],
};

export const soundNames = Object.keys(sounds);

// played lists what was played, newest last (a few): the browser tests
// read it, as no ear listens there.
export const played = [];

// play sounds name now ('off' or an unknown name: nothing). Browsers let a
// page play sound only after the person has used it once (a click, a
// key), which an agent at work always has.
export function play(name) {
  const notes = sounds[name];
  if (!notes) return false;
  played.push(name);
  if (played.length > 20) played.shift();
  try {
    ctx ??= new (window.AudioContext || window.webkitAudioContext)();
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    const now = ctx.currentTime + 0.01;
    for (const [freq, start, len, type] of notes) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = type;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + start);
      gain.gain.exponentialRampToValueAtTime(0.25, now + start + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + start + len);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + start);
      osc.stop(now + start + len + 0.02);
    }
    return true;
  } catch {
    return false;
  }
}
