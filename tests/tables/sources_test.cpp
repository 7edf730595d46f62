// Each stdlib table checked against a committed extract of its source (filled below).
