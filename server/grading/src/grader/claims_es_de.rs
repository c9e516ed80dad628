//! The confidently wrong technical claims of `misconceptions.rs`, in Spanish and German words.
//! Same flags (reasons are in English throughout the report), same rules: groups in order in one
//! clause, a hedge or a correction in the sentence undoes the claim.

use super::misconceptions::{Claim, Claims};

const MD5_ENCRYPTS: &str =
    "Says a hash (MD5/SHA) encrypts data: hashing is one-way, not encryption";
const MD5_PASSWORDS: &str =
    "Calls MD5/SHA-1 safe for storing passwords: they are fast hashes, made for brute force";
const BASE64: &str = "Says Base64 encrypts or secures data: it is an encoding anyone can reverse";
const INDEXES: &str = "Says indexes do not slow down writes: every index is updated on each write";
const KAFKA: &str = "Says Kafka gives exactly-once delivery for free: it needs idempotent producers, transactions and consumer-side care";
const UDP: &str = "Says UDP guarantees delivery or order: it guarantees neither";
const HORIZONTAL: &str = "Calls a bigger machine horizontal scaling: that is vertical scaling";

const HASHES: &[&str] = &["md5", "sha1", "sha", "sha256"];
const REAL_CIPHERS: &[&str] = &["aes", "rsa", "tls", "ssl", "chacha", "kms"];
const SLOW_HASHES: &[&str] = &["bcrypt", "scrypt", "argon2", "argon", "pbkdf2"];

pub(super) const ES: Claims = Claims {
    claims: &[
        Claim {
            flag: MD5_ENCRYPTS,
            groups: &[
                HASHES,
                &["cifra*", "encripta*", "descifra*", "desencripta*"],
            ],
            window: 2,
            also: &[],
            unless: REAL_CIPHERS,
            negative: false,
        },
        Claim {
            flag: MD5_PASSWORDS,
            groups: &[
                &["md5", "sha1"],
                &["segur*", "suficiente", "vale", "bien"],
                &["contraseña*", "password*", "clave*"],
            ],
            window: 5,
            also: &[],
            unless: SLOW_HASHES,
            negative: false,
        },
        Claim {
            flag: BASE64,
            groups: &[
                &["base64"],
                &["cifra*", "encripta*", "protege*", "asegura*"],
            ],
            window: 3,
            also: &[],
            unless: &[],
            negative: false,
        },
        Claim {
            flag: INDEXES,
            groups: &[
                &["índice", "índices", "indice", "indices", "indexar"],
                &["nunca", "no", "ningún", "ninguna", "cero"],
                &[
                    "ralentiza*",
                    "afecta*",
                    "cuesta*",
                    "penaliza*",
                    "impacto",
                    "coste",
                    "perjudica*",
                ],
                &["escritura*", "inserci*", "insert*", "actualizaci*"],
            ],
            window: 4,
            also: &[],
            unless: &[],
            negative: true,
        },
        Claim {
            flag: KAFKA,
            groups: &[&["kafka"], &["exactamente"], &["vez"]],
            window: 6,
            also: &[
                "gratis",
                "automátic*",
                "defecto",
                "siempre",
                "garantiza*",
                "incluido",
            ],
            unless: &[
                "idempotente*",
                "idempotencia",
                "transacci*",
                "dedupl*",
                "configura*",
            ],
            negative: false,
        },
        Claim {
            flag: UDP,
            groups: &[
                &["udp"],
                &["garantiza*", "asegura*", "fiable*"],
                &["entrega*", "orden*", "llega*"],
            ],
            window: 4,
            also: &[],
            unless: &["tcp", "quic", "ack", "acks", "retransmi*"],
            negative: false,
        },
        Claim {
            flag: HORIZONTAL,
            groups: &[
                &["horizontal", "horizontalmente"],
                &["más"],
                &[
                    "grande*",
                    "potente*",
                    "máquina*",
                    "servidor*",
                    "cpu*",
                    "ram",
                    "memoria",
                ],
            ],
            window: 5,
            also: &[],
            unless: &["vertical", "verticalmente"],
            negative: false,
        },
    ],
    negations: &["no", "nunca", "jamás", "ni", "tampoco", "cero"],
    distancing: &[
        "mito",
        "error",
        "equivocado",
        "equivocada",
        "equivocadamente",
        "erróneamente",
        "incorrecto",
        "incorrecta",
        "confunde",
        "confundir",
        "confusión",
        "lugar",
        "si",
    ],
    breaks: &["pero", "mientras", "aunque", "sino"],
};

pub(super) const DE: Claims = Claims {
    claims: &[
        Claim {
            flag: MD5_ENCRYPTS,
            groups: &[HASHES, &["verschlüssel*", "entschlüssel*"]],
            window: 3,
            also: &[],
            unless: REAL_CIPHERS,
            negative: false,
        },
        Claim {
            flag: MD5_PASSWORDS,
            groups: &[
                &["md5", "sha1"],
                &["sicher*", "ausreichend", "genug", "gut"],
                &["passw*", "kennw*"],
            ],
            window: 5,
            also: &[],
            unless: SLOW_HASHES,
            negative: false,
        },
        Claim {
            flag: BASE64,
            groups: &[
                &["base64"],
                &["verschlüssel*", "sicher*", "schützt*", "schützen"],
            ],
            window: 3,
            also: &[],
            unless: &[],
            negative: false,
        },
        Claim {
            flag: INDEXES,
            groups: &[
                &["index", "indizes", "indexe", "indexes"],
                &[
                    "verlangsam*",
                    "bremsen",
                    "bremst",
                    "kosten",
                    "kostet",
                    "beeinträchtig*",
                ],
                &["schreib*", "insert*", "update*"],
                &["nicht", "nie", "niemals", "kein*"],
            ],
            window: 5,
            also: &[],
            unless: &[],
            negative: true,
        },
        Claim {
            flag: KAFKA,
            groups: &[&["kafka"], &["exactly", "genau"], &["once", "einmal"]],
            window: 6,
            also: &[
                "gratis",
                "automatisch*",
                "standard*",
                "immer",
                "garantier*",
                "eingebaut",
            ],
            unless: &["idempoten*", "transaktion*", "dedupl*", "konfigur*"],
            negative: false,
        },
        Claim {
            flag: UDP,
            groups: &[
                &["udp"],
                &["garantiert", "garantieren", "sicher*", "zuverlässig*"],
                &["zustell*", "reihenfolge", "ankomm*", "ankunft"],
            ],
            window: 4,
            also: &[],
            unless: &["tcp", "quic", "ack", "acks", "retransmi*"],
            negative: false,
        },
        Claim {
            flag: HORIZONTAL,
            groups: &[
                &["horizontal*"],
                &["größer*", "stärker*", "mehr"],
                &[
                    "maschine*",
                    "server*",
                    "instanz*",
                    "cpu*",
                    "ram",
                    "speicher",
                ],
            ],
            window: 5,
            also: &[],
            unless: &["vertikal*"],
            negative: false,
        },
    ],
    negations: &[
        "nicht", "nie", "niemals", "kein", "keine", "keinen", "weder", "null",
    ],
    distancing: &[
        "mythos",
        "irrtum",
        "irrtümlich",
        "falsch",
        "fälschlich",
        "fälschlicherweise",
        "verwechseln",
        "verwechselt",
        "statt",
        "anstatt",
        "ob",
    ],
    breaks: &["aber", "während", "wohingegen", "obwohl", "sondern"],
};
