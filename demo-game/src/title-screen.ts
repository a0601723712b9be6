/**
 * The title screen: what the game is, how to play, and a Play button (Enter
 * or Space also start). It covers the arena, which loads behind it; the game
 * joins the arena when the player presses Play. Play is also the gesture the
 * browser needs before the game may make sounds.
 *
 * @module
 */
import { el } from './dom.js';

/** Options of {@link showTitleScreen}. */
export interface TitleOptions {
  /** The element the screen covers (the arena's container). */
  parent: HTMLElement;
  /** Called once, when the player starts. */
  onPlay: () => void;
}

/**
 * Shows the title screen.
 *
 * @returns a function that removes it (as Play does)
 */
export function showTitleScreen(options: TitleOptions): () => void {
  const screen = el('section', { id: 'title-screen', class: 'title-screen', 'aria-labelledby': 'title-heading' });
  const card = el('div', { class: 'title-card' });
  card.append(
    el('h1', { id: 'title-heading' }, 'Playmind Arena'),
    el(
      'p',
      { class: 'tagline' },
      'The guards are played by a neural network trained to beat the scripted guard it learned from.',
    ),
  );
  const how = el('ul', { class: 'how-to-play' });
  for (const line of [
    'Move with WASD or the arrow keys; SPACE attacks the nearest guard in reach.',
    'A round lasts two minutes: score the most points before the clock runs out. Downing a guard, picking up gold and finishing quests all score.',
    'Take a quest from the panel: it tells you why it is suggested for you.',
    'Click a guard to see the AI think: what it sees, who it targets, how likely each action was, and what the scripted guard would have done.',
    'If the server goes away, the game carries on in this page and rejoins when it is back.',
  ])
    how.append(el('li', {}, line));
  card.append(how);
  const play = el('button', { type: 'button', id: 'play', class: 'play' }, 'Play');
  card.append(play, el('p', { class: 'hint' }, 'Enter or Space starts · M mutes the sound'));
  screen.append(card);
  options.parent.append(screen);

  let done = false;
  const start = () => {
    if (done) return;
    done = true;
    window.removeEventListener('keydown', onKey, true);
    screen.remove();
    options.onPlay();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      e.stopPropagation();
      start();
    }
  };
  play.addEventListener('click', start);
  window.addEventListener('keydown', onKey, true);
  play.focus();
  return start;
}
