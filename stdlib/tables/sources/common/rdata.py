"""Reads R's .rda / .rds files (XDR serialization, versions 2 and 3) with the Python standard library.

Only what R data packages use is supported: vectors, factors, lists, data.frame / data.table
(including data.table's external pointer attribute), ALTREP compact sequences and wrappers.
load(path) returns {object name: value}; a data frame becomes {column name: list of values}.
"""
import bz2, gzip, lzma, struct

def _open(path):
    raw = open(path, 'rb').read()
    if raw[:3] == b'BZh': raw = bz2.decompress(raw)
    elif raw[:2] == b'\x1f\x8b': raw = gzip.decompress(raw)
    elif raw[:5] == b'\xfd7zXZ': raw = lzma.decompress(raw)
    return raw

class _R:
    def __init__(self, b, pos):
        self.b, self.p, self.refs = b, pos, []
    def i(self):
        v = struct.unpack_from('>i', self.b, self.p)[0]; self.p += 4; return v
    def d(self, n):
        v = struct.unpack_from('>%dd' % n, self.b, self.p); self.p += 8 * n; return list(v)
    def ints(self, n):
        v = struct.unpack_from('>%di' % n, self.b, self.p); self.p += 4 * n; return list(v)
    def length(self):
        n = self.i()
        if n == -1:
            hi, lo = self.i(), self.i(); n = (hi << 32) | lo
        return n
    def item(self):
        flags = self.i()
        t = flags & 0xFF
        has_attr = bool(flags & (1 << 9)); has_tag = bool(flags & (1 << 10))
        if t == 254: return None  # NILVALUE
        if t in (242, 253, 251, 252): return None  # empty env, global env, missing, unbound
        if t == 255:  # REFSXP
            idx = flags >> 8
            if idx == 0: idx = self.i()
            return self.refs[idx - 1]
        if t == 1:  # SYMSXP
            s = self.item(); self.refs.append(('sym', s)); return ('sym', s)
        if t == 9:  # CHARSXP
            n = self.i()
            if n == -1: return None
            s = self.b[self.p:self.p + n].decode('utf-8', 'replace'); self.p += n; return s
        if t in (2, 6, 17, 5):  # pairlist-like
            attr = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item(); cdr = self.item()
            out = [(tag[1] if tag else None, car)]
            if isinstance(cdr, list) and cdr and isinstance(cdr[0], tuple) and len(cdr[0]) == 2 and t == 2:
                out += cdr
            return out
        if t == 4:  # ENVSXP
            locked = self.i(); env = {}; self.refs.append(env)
            self.item(); self.item(); self.item(); self.item(); return env
        if t == 238:  # ALTREP
            info = self.item(); state = self.item(); attr = self.item()
            cls = info[0][1][1] if info else ''
            if cls == 'compact_intseq':
                n, start, step = state
                return {'v': [int(start + k * step) for k in range(int(n))], 'a': {}}
            if cls == 'compact_realseq':
                n, start, step = state
                return {'v': [start + k * step for k in range(int(n))], 'a': {}}
            if cls.startswith('wrap_'):
                return state[0][1] if isinstance(state, list) else state
            if cls == 'deferred_string':
                return state[0][1] if isinstance(state, list) else state
            raise ValueError('ALTREP ' + str(cls))
        if t == 22:  # EXTPTRSXP
            obj = {'v': None, 'a': {}}; self.refs.append(obj); self.item(); self.item(); v = None
        elif t == 23:  # WEAKREFSXP
            obj = {'v': None, 'a': {}}; self.refs.append(obj); v = None
        elif t in (10, 13):
            n = self.length(); v = self.ints(n)
        elif t == 14:
            n = self.length(); v = self.d(n)
        elif t == 16:
            n = self.length(); v = [self.item() for _ in range(n)]
        elif t in (19, 20):
            n = self.length(); v = [self.item() for _ in range(n)]
        elif t == 24:  # RAWSXP
            n = self.length(); v = self.b[self.p:self.p + n]; self.p += n
        else:
            raise ValueError('unsupported SEXP type %d at %d' % (t, self.p))
        a = {}
        if has_attr:
            pl = self.item()
            for k, val in (pl or []):
                a[k] = val
        return {'v': v, 'a': a}

def _val(x):
    return x['v'] if isinstance(x, dict) else x

def load(path):
    """Returns {name: object}; a data.frame becomes {column: list}."""
    b = _open(path)
    if b[:5] in (b'RDX2\n', b'RDX3\n'): b = b[5:]
    assert b[:2] == b'X\n', 'not XDR'
    r = _R(b, 2)
    ver = r.i(); r.i(); r.i()
    if ver == 3:
        n = r.i(); r.p += n
    top = r.item()
    out = {}
    for k, v in top:
        out[k] = frame(v)
    return out

def frame(v):
    if isinstance(v, dict) and isinstance(v['v'], list) and 'names' in v['a']:
        names = _val(v['a']['names'])
        if 'class' in v['a'] and any(c in ('data.frame', 'data.table') for c in _val(v['a']['class'])):
            cols = {}
            for name, col in zip(names, v['v']):
                vals = _val(col)
                if isinstance(col, dict) and 'levels' in col['a']:
                    lev = _val(col['a']['levels']); vals = [lev[k - 1] if k > 0 else None for k in vals]
                cols[name] = vals
            return cols
    return v
