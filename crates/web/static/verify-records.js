/*
 * Lifebuoy: verifies a communication records export (lifebuoy-records/1) in the browser, offline, with
 * WebCrypto. It does what crates/records/src/verify.rs (verify_json) does, step for step, and names the first
 * problem the same way: an entry altered, removed, inserted or reordered, a signed chain head that does not
 * match, the document's signature, or a document that is not an export.
 *
 * The file is read with FileReader and never leaves the page. No libraries, no build step.
 *
 *   const r = await verifyExport(jsonText, trustedKeys?);
 *   // {ok: true, conversations, entries, keyIds}
 *   // {ok: false, kind: 'altered'|'removed'|'inserted'|'reordered'|'seal'|'signature'|'format',
 *   //  conversation, case, seq, message}
 */
'use strict';

const RECORDS_FORMAT = 'lifebuoy-records/1';
const RECORDS_GENESIS = '0'.repeat(64);

/** RFC 8785 (JCS): keys sorted by UTF-16 code units, strings and numbers as JSON.stringify writes them. */
function canonicalJson(v) {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(v[k])).join(',') + '}';
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('a number that JSON cannot hold');
  return JSON.stringify(v);
}

const recordsUtf8 = (s) => new TextEncoder().encode(s);

function recordsHex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Hex to bytes; text that is not hex (a tampered export) is taken as its UTF-8 bytes, as verify.rs does. */
function recordsHexOrRaw(s) {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(s)) return recordsUtf8(s);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

/** base64url without padding, strictly (what the Rust side accepts): null if it is not. */
function recordsB64(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  let bin;
  try {
    bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  } catch (e) {
    return null;
  }
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  // Refuse non-zero trailing bits: one text for one value.
  const back = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return back === s ? bytes : null;
}

async function recordsSha256(bytes) {
  return recordsHex(await crypto.subtle.digest('SHA-256', bytes));
}

/** The leaf of an entry: SHA-256 of JCS({conversation_id, seq, at, content}). */
function recordsLeaf(conversationId, seq, at, content) {
  return recordsSha256(recordsUtf8(canonicalJson({ conversation_id: conversationId, seq, at, content })));
}

/** The chain digest after an entry: SHA-256(previous digest ‖ leaf). */
function recordsDigest(prev, leaf) {
  const a = recordsHexOrRaw(prev);
  const b = recordsHexOrRaw(leaf);
  const both = new Uint8Array(a.length + b.length);
  both.set(a, 0);
  both.set(b, a.length);
  return recordsSha256(both);
}

/* The format, field by field: what the Rust model reads and writes back. A document holding anything else
 * (a field it does not know, a default left out, a null where there is none) is refused, as verify_json does:
 * the signature would not cover it as read. */
const isStr = (v) => typeof v === 'string';
const isInt = (v) => Number.isSafeInteger(v);
const isBool = (v) => typeof v === 'boolean';
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const strOrNull = (v) => v === null || isStr(v);
const anyJson = () => true;

const SHAPES = {
  export: {
    required: { format: isStr, exported_at: isInt, issuer: isStr, exported_by: isStr, lang: isStr, customer: 'customer', conversations: ['conversation'], keys: ['key'] },
    optional: { signature: 'signature' },
  },
  signature: { required: { key_id: isStr, value: isStr } },
  customer: { required: { id: isStr, external_id: strOrNull, name: strOrNull, email: strOrNull } },
  key: { required: { id: isStr, alg: isStr, public_key: isStr, created_at: isInt }, optional: { retired_at: isInt } },
  conversation: {
    required: {
      id: isStr, case_number: strOrNull, channel: isStr, subject: isStr, status: isStr,
      created_at: isInt, updated_at: isInt, entries: ['entry'], seals: ['seal'],
    },
  },
  seal: { required: { seq: isInt, digest: isStr, signed_at: isInt, key_id: isStr, signature: isStr } },
  shown: { required: { seq: isInt, at: isInt, digest: isStr, content: 'content' }, optional: { author_name: isStr, agent_no: isStr } },
  withheld: { required: { seq: isInt, at: isInt, digest: isStr, withheld: isStr, leaf: isStr } },
  message: {
    required: { type: isStr, author_kind: isStr, author_id: strOrNull, body: isStr, internal: isBool, attachments: ['attachment'] },
  },
  event: { required: { type: isStr, actor_kind: isStr, actor_id: strOrNull, kind: isStr, data: anyJson, internal: isBool } },
  attachment: { required: { id: isStr, filename: isStr, content_type: isStr, size: isInt, sha256: isStr } },
};

/** The path of the first thing in `v` outside shape `name`, or null. */
function recordsShapeError(v, name, path) {
  if (name === 'entry') return recordsShapeError(v, isObj(v) && 'content' in v ? 'shown' : 'withheld', path);
  if (name === 'content') {
    const t = isObj(v) ? v.type : undefined;
    if (t !== 'message' && t !== 'event') return path + '.type';
    return recordsShapeError(v, t, path);
  }
  if (!isObj(v)) return path;
  const shape = SHAPES[name];
  const fields = Object.assign({}, shape.required, shape.optional || {});
  for (const k of Object.keys(v)) if (!(k in fields)) return path + '.' + k;
  for (const k of Object.keys(shape.required)) if (!(k in v)) return path + '.' + k;
  for (const [k, want] of Object.entries(fields)) {
    if (!(k in v)) continue;
    const p = path + '.' + k;
    if (Array.isArray(want)) {
      if (!Array.isArray(v[k])) return p;
      for (let i = 0; i < v[k].length; i++) {
        const e = recordsShapeError(v[k][i], want[0], p + '[' + i + ']');
        if (e) return e;
      }
    } else if (typeof want === 'string') {
      const e = recordsShapeError(v[k], want, p);
      if (e) return e;
    } else if (!want(v[k])) {
      return p;
    }
  }
  return null;
}

/** Checks an Ed25519 signature (base64url) by key `id` among `keys`: null if it checks, else why not. */
async function recordsCheck(keys, id, message, signature) {
  const k = keys.find((x) => x.id === id);
  if (!k) return `the key ${id} is not one of the keys given`;
  const raw = recordsB64(k.public_key);
  if (!raw || raw.length !== 32) return `the key ${id} is not a valid Ed25519 public key`;
  if ((await recordsSha256(raw)).slice(0, 16) !== id) {
    return `the key given as ${id} is another key (its id is not the hash of its bytes)`;
  }
  const sig = recordsB64(signature);
  if (!sig || sig.length !== 64) return 'the signature is not valid base64url of 64 bytes';
  let key;
  try {
    key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    return `the key ${id} is not a valid Ed25519 public key`;
  }
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, message);
  return ok ? null : 'the signature does not match what was signed';
}

/** The bytes a seal signs: JCS of {conversation_id, seq, digest, signed_at, key_id}. */
function recordsSealMessage(conversationId, s) {
  return recordsUtf8(canonicalJson({ conversation_id: conversationId, seq: s.seq, digest: s.digest, signed_at: s.signed_at, key_id: s.key_id }));
}

/**
 * Verifies an export: `json` is its text (or the parsed document); `trustedKeys` the keys to accept (as
 * published at the issuer's /.well-known/lifebuoy-signing-keys), or none to take the keys the export lists.
 */
async function verifyExport(json, trustedKeys) {
  const fail = (kind, c, seq, extra) =>
    Object.assign({ ok: false, kind, conversation: c ? c.id : null, case: c ? c.case_number : null, seq: seq === undefined ? null : seq }, extra || {});
  let doc = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json);
    } catch (e) {
      return fail('format', null, undefined, { message: 'not valid JSON: ' + e.message });
    }
  }
  const wrong = recordsShapeError(doc, 'export', '$');
  if (wrong) return fail('format', null, undefined, { message: `${wrong} is not part of the format` });
  if (doc.format !== RECORDS_FORMAT) {
    return fail('format', null, undefined, { message: `format ${JSON.stringify(doc.format)}, expected ${JSON.stringify(RECORDS_FORMAT)}` });
  }
  const keys = trustedKeys || doc.keys;
  const used = [];
  let entries = 0;
  for (const c of doc.conversations) {
    let prev = RECORDS_GENESIS;
    const digests = [];
    const signedTo = c.seals.length ? c.seals[c.seals.length - 1].seq : Infinity;
    for (let i = 0; i < c.entries.length; i++) {
      const e = c.entries[i];
      const expected = i + 1;
      if (e.seq !== expected) {
        const twice = c.entries.filter((x) => x.seq === e.seq).length > 1;
        if (e.seq < expected || twice || e.seq > signedTo) return fail('inserted', c, e.seq);
        if (c.entries.slice(i + 1).some((x) => x.seq === expected)) return fail('reordered', c, e.seq, { before: expected });
        return fail('removed', c, expected);
      }
      const leaf = 'content' in e ? await recordsLeaf(c.id, e.seq, e.at, e.content) : e.leaf;
      const d = await recordsDigest(prev, leaf);
      if (d !== e.digest) return fail(e.seq > signedTo ? 'inserted' : 'altered', c, e.seq);
      digests.push(d);
      prev = d;
    }
    entries += c.entries.length;
    const last = c.entries.length;
    if (!c.seals.length) return fail('seal', c, last, { why: 'no signed head' });
    for (const s of c.seals) {
      if (s.seq < 1 || s.seq > last) return fail('removed', c, last + 1);
      if (digests[s.seq - 1] !== s.digest) return fail('seal', c, s.seq, { why: 'its digest differs' });
      const why = await recordsCheck(keys, s.key_id, recordsSealMessage(c.id, s), s.signature);
      if (why) return fail('seal', c, s.seq, { why });
      if (!used.includes(s.key_id)) used.push(s.key_id);
    }
    const head = c.seals[c.seals.length - 1];
    if (head.seq < last) return fail('inserted', c, head.seq + 1);
  }
  if (!doc.signature) return fail('signature', null, undefined, { why: 'the export is not signed' });
  const unsigned = Object.assign({}, doc);
  delete unsigned.signature;
  const why = await recordsCheck(keys, doc.signature.key_id, recordsUtf8(canonicalJson(unsigned)), doc.signature.value);
  if (why) return fail('signature', null, undefined, { why });
  if (!used.includes(doc.signature.key_id)) used.push(doc.signature.key_id);
  return { ok: true, conversations: doc.conversations.length, entries, keyIds: used };
}

/* What the reader is told, in the page's language. */
const RECORDS_WORDS = {
  'zh-Hans': {
    ok: (r) => `验证通过：${r.conversations} 个案件、${r.entries} 条记录均未被改动。签名密钥编号：${r.keyIds.join('、')}（请与帮助中心公布的密钥核对）。`,
    case: (r) => (r.case ? `案件 ${r.case}` : `会话 ${r.conversation}`),
    altered: (c, r) => `${c} 的第 ${r.seq} 条记录已被改动。`,
    removed: (c, r) => `${c} 的第 ${r.seq} 条记录已被删除。`,
    inserted: (c, r) => `${c} 的第 ${r.seq} 条记录是后来插入的，不在签名记录之中。`,
    reordered: (c, r) => `${c} 的记录顺序被调换（第 ${r.seq} 条被移到了第 ${r.before} 条之前）。`,
    seal: (c, r) => `${c} 截至第 ${r.seq} 条的签名与记录不符。`,
    signature: () => '文件的整体签名无效：文件内容（如姓名、状态）已被改动，或签名密钥不受信任。',
    format: () => '这不是有效的沟通记录导出文件（JSON）。',
    reading: '正在本地验证，文件不会上传……',
    failed: '验证失败：',
  },
  'zh-Hant': {
    ok: (r) => `驗證通過：${r.conversations} 個案件、${r.entries} 筆紀錄皆未遭改動。簽章金鑰編號：${r.keyIds.join('、')}（請與幫助中心公布的金鑰核對）。`,
    case: (r) => (r.case ? `案件 ${r.case}` : `對話 ${r.conversation}`),
    altered: (c, r) => `${c} 的第 ${r.seq} 筆紀錄已遭改動。`,
    removed: (c, r) => `${c} 的第 ${r.seq} 筆紀錄已遭刪除。`,
    inserted: (c, r) => `${c} 的第 ${r.seq} 筆紀錄是事後插入的，不在簽章紀錄之中。`,
    reordered: (c, r) => `${c} 的紀錄順序遭到調換（第 ${r.seq} 筆被移到第 ${r.before} 筆之前）。`,
    seal: (c, r) => `${c} 截至第 ${r.seq} 筆的簽章與紀錄不符。`,
    signature: () => '文件的整體簽章無效：文件內容（如姓名、狀態）已遭改動，或簽章金鑰不受信任。',
    format: () => '這不是有效的溝通紀錄匯出檔案（JSON）。',
    reading: '正在本機驗證，檔案不會上傳……',
    failed: '驗證失敗：',
  },
  en: {
    ok: (r) => `Verified: ${r.conversations} cases and ${r.entries} entries, none changed. Signing key IDs: ${r.keyIds.join(', ')} (compare them with the keys the help center publishes).`,
    case: (r) => (r.case ? `Case ${r.case}` : `Conversation ${r.conversation}`),
    altered: (c, r) => `${c}: entry ${r.seq} was altered.`,
    removed: (c, r) => `${c}: entry ${r.seq} was removed.`,
    inserted: (c, r) => `${c}: entry ${r.seq} was inserted; it is not among the signed entries.`,
    reordered: (c, r) => `${c}: entries were reordered (entry ${r.seq} was moved before entry ${r.before}).`,
    seal: (c, r) => `${c}: the signature up to entry ${r.seq} does not match the entries.`,
    signature: () => "The document's signature is not valid: its content (names, statuses, …) was changed, or the key is not trusted.",
    format: () => 'This is not a valid support records export (JSON).',
    reading: 'Verifying on this device; the file is not uploaded…',
    failed: 'Verification failed: ',
  },
};

/** The words for a page language (`zh-Hans`, `zh-CN`, `zh-Hant`, `zh-TW`, `en`, …). */
function recordsWords(lang) {
  const l = (lang || '').toLowerCase();
  if (l.startsWith('zh-hant') || /^zh-(tw|hk|mo)/.test(l)) return RECORDS_WORDS['zh-Hant'];
  if (l.startsWith('zh')) return RECORDS_WORDS['zh-Hans'];
  return RECORDS_WORDS.en;
}

/** The sentence for a verdict of verifyExport, in `lang`. */
function describeVerdict(result, lang) {
  const w = recordsWords(lang);
  if (result.ok) return w.ok(result);
  return w.failed + w[result.kind](w.case(result), result);
}

/**
 * Wires the verifier to the page: choosing a file in `<input type=file id=records-file>` reads it here (never
 * uploaded) and writes the verdict into `#records-result` (its data-ok, data-kind and data-seq say it too).
 */
function attachRecordsVerifier(trustedKeys) {
  const input = document.getElementById('records-file');
  const out = document.getElementById('records-result');
  if (!input || !out) return;
  const lang = document.documentElement.lang;
  const show = (result) => {
    out.textContent = describeVerdict(result, lang);
    out.dataset.ok = String(result.ok);
    out.dataset.kind = result.ok ? '' : result.kind;
    out.dataset.seq = result.seq == null ? '' : String(result.seq);
  };
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (!file) return;
    out.textContent = recordsWords(lang).reading;
    const reader = new FileReader();
    reader.onload = () => verifyExport(String(reader.result), trustedKeys).then(show, (e) => show({ ok: false, kind: 'format', message: String(e) }));
    reader.onerror = () => show({ ok: false, kind: 'format', message: String(reader.error) });
    reader.readAsText(file);
  });
}

if (typeof document !== 'undefined') {
  // The page may name the keys to trust (the desk's published ones) in <script type=application/json
  // id=records-keys>; without it, the keys the export lists are taken (and their ids shown).
  document.addEventListener('DOMContentLoaded', () => {
    const k = document.getElementById('records-keys');
    let keys;
    try { keys = k ? JSON.parse(k.textContent).keys : undefined; } catch (_) { keys = undefined; }
    attachRecordsVerifier(keys);
  });
}
