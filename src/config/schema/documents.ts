// Splitting the rendered werf.yaml into documents the way werf does (splitContent / emptyDocContent).



// ---------------------------------------------------------------------------------------------------------
// Splitting into documents (werf's splitContent / emptyDocContent)

export interface RawDocument {
  /** 1-based, counting non-empty documents only. */
  index: number;
  /** 1-based line where the document's text starts. */
  line: number;
  /** Offset of the text in the rendered file. */
  offset: number;
  text: string;
}

/**
 * The `[start, end)` ranges of the documents, separators excluded. A separator is a line that is exactly
 * `---`, optionally followed by blanks and a `#` comment. (werf's splitter gives up on a comment containing
 * `-`, leaving the `---` line inside the document, where YAML then fails; Slipway treats it as a separator.)
 */
function documentRanges(content: string): [number, number][] {
  type State = 'lineBegin' | 'regular' | 'dash1' | 'dash2' | 'dash3' | 'spaces' | 'comment';
  const ranges: [number, number][] = [];
  let state: State = 'lineBegin';
  let start = 0;
  let separatorLength = 0;
  for (let index = 0; index < content.length; index++) {
    const ch = content[index];
    if (state === 'comment' && ch !== '\n') {
      separatorLength++;
      continue;
    }
    switch (ch) {
      case '-':
        if (state === 'lineBegin') {
          separatorLength = 1;
          state = 'dash1';
        } else if (state === 'dash1' || state === 'dash2') {
          separatorLength++;
          state = state === 'dash1' ? 'dash2' : 'dash3';
        } else {
          state = 'regular';
        }
        break;
      case '\n':
        if (state === 'dash3' || state === 'spaces' || state === 'comment') {
          ranges.push([start, index - separatorLength]);
          start = index + 1;
        }
        separatorLength = 0;
        state = 'lineBegin';
        break;
      case ' ':
      case '\r':
      case '\t':
        if (state === 'dash3' || state === 'spaces') {
          separatorLength++;
          state = 'spaces';
        } else {
          state = 'regular';
        }
        break;
      case '#':
        if (state === 'dash3' || state === 'spaces') {
          separatorLength++;
          state = 'comment';
        } else {
          state = 'regular';
        }
        break;
      default:
        state = 'regular';
    }
  }
  if (start < content.length) {
    const endsWithSeparator = state === 'dash3' || state === 'spaces' || state === 'comment';
    ranges.push([start, endsWithSeparator ? content.length - separatorLength : content.length]);
  }
  return ranges;
}

/** Only blanks and comments (werf's emptyDocContent). */
function isEmptyDocument(text: string): boolean {
  let inComment = false;
  for (const ch of text) {
    if (ch === '#') inComment = true;
    else if (ch === '\n') inComment = false;
    else if (ch !== ' ' && ch !== '\r' && ch !== '\t' && !inComment) return false;
  }
  return true;
}

export function splitDocuments(content: string): RawDocument[] {
  const documents: RawDocument[] = [];
  let line = 1;
  let counted = 0;
  for (const [start, end] of documentRanges(content)) {
    for (let i = counted; i < start; i++) if (content[i] === '\n') line++;
    counted = start;
    const text = content.slice(start, end);
    if (!isEmptyDocument(text)) documents.push({ index: documents.length + 1, line, offset: start, text });
  }
  return documents;
}
