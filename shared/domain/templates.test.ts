import { type LibraryTemplate, latestOfLine, withLatestMarked } from './templates';

const template = (templateId: number, createdAt: number | null, source: string | null, templateType = 0): LibraryTemplate => ({
  templateId,
  userVersion: `1.${templateId}.0`,
  userDesc: '',
  createdAt,
  templateType,
  sourceMiniProgramAppid: source,
  sourceMiniProgram: null,
});

const library = [
  template(1, 1000, 'wxdev'),
  template(5, 3000, 'wxdev'),
  template(3, 2000, 'wxdev'),
  template(9, 9000, 'wxother'),
  template(7, 8000, null),
];

describe('the latest version of a template', () => {
  test('is the newest template of the same source development mini program', () => {
    expect(latestOfLine(library, 1)?.templateId).toBe(5);
    expect(latestOfLine(library, 5)?.templateId).toBe(5);
    expect(latestOfLine(library, 9)?.templateId).toBe(9);
  });

  test('of a template without a source is itself; of one the library does not list, unknown', () => {
    expect(latestOfLine(library, 7)?.templateId).toBe(7);
    expect(latestOfLine(library, 42)).toBeNull();
  });

  test('lists the library newest first, marking each line’s latest', () => {
    expect(withLatestMarked(library).map((t) => [t.templateId, t.latest])).toEqual([
      [9, true],
      [7, true],
      [5, true],
      [3, false],
      [1, false],
    ]);
  });
});
