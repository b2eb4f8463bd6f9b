//! WeChat's encrypted pushes to a third-party platform (安全模式), as pure functions: the
//! `msg_signature` check, AES-256-CBC with the EncodingAESKey, the plaintext layout, the XML of the
//! pushes a release tool cares about (review results, `component_verify_ticket`), and the
//! encryption itself (the emulator pushes with it; tests prove it against WeChat's vectors).
//!
//! The scheme (wechat-push.md A2): AESKey = base64(EncodingAESKey + "="), 32 bytes; IV = its first
//! 16 bytes; PKCS#7 padding to **32-byte** blocks (pad byte 1…32); plaintext = 16 random bytes ‖
//! 4-byte big-endian byte length ‖ msg ‖ the component appid. `msg_signature` = hex(sha1(the
//! four strings Token, timestamp, nonce, Encrypt sorted and joined)).

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use sha1::{Digest, Sha1};

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

/// The padding block of WeChat's PKCS#7 (not AES's 16).
const PAD_BLOCK: usize = 32;

/// Why a push was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The EncodingAESKey is not 43 base64 characters.
    #[error("the EncodingAESKey must be 43 characters of A-Z, a-z, 0-9 (WeChat's 消息加解密Key)")]
    BadKey,
    /// `msg_signature` does not match.
    #[error("msg_signature does not match: not from WeChat, or another Token")]
    Signature,
    /// The `Encrypt` text is not base64 of whole AES blocks.
    #[error("the Encrypt field is not base64 of a whole number of 32-byte blocks")]
    Encoding,
    /// Decryption gave bytes that do not have the documented layout.
    #[error("the decrypted message does not have WeChat's layout (another EncodingAESKey?)")]
    Layout,
    /// The trailing appid is not this platform's.
    #[error("the message is for platform {0}, not this one")]
    Receiver(String),
    /// The body is not the XML of a push.
    #[error("the body is not a push (no <Encrypt> element)")]
    Xml,
}

/// A platform's message crypto: Token, EncodingAESKey and its component appid.
#[derive(Clone)]
pub struct Crypt {
    token: String,
    key: [u8; 32],
    receiver: String,
}

impl std::fmt::Debug for Crypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypt")
            .field("receiver", &self.receiver)
            .finish_non_exhaustive()
    }
}

/// `hex(sha1(sorted(parts).join("")))`.
pub fn signature(parts: &[&str]) -> String {
    let mut sorted: Vec<&str> = parts.to_vec();
    sorted.sort_unstable();
    let digest = Sha1::digest(sorted.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Crypt {
    /// From the Token, the 43-character EncodingAESKey and the platform's appid.
    pub fn new(
        token: &str,
        encoding_aes_key: &str,
        component_appid: &str,
    ) -> Result<Self, PushError> {
        if encoding_aes_key.len() != 43
            || !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(PushError::BadKey);
        }
        // A 43-character key has 2 spare bits the strict decoder refuses when they are not zero;
        // WeChat's keys are decoded leniently by every SDK, so are these.
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        let bytes = engine
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| PushError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| PushError::BadKey)?;
        Ok(Self {
            token: token.to_owned(),
            key,
            receiver: component_appid.to_owned(),
        })
    }

    /// The `msg_signature` of an `Encrypt` value.
    pub fn sign(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        signature(&[&self.token, timestamp, nonce, encrypt])
    }

    /// Whether `msg_signature` is right (compared in constant time).
    pub fn verify(&self, timestamp: &str, nonce: &str, encrypt: &str, msg_signature: &str) -> bool {
        let want = self.sign(timestamp, nonce, encrypt);
        let got = msg_signature.trim().to_ascii_lowercase();
        want.len() == got.len()
            && want
                .bytes()
                .zip(got.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Decrypts `Encrypt`: the message, after checking the layout and that it is for this platform.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, PushError> {
        let mut data = base64::engine::general_purpose::STANDARD
            .decode(encrypt.trim())
            .map_err(|_| PushError::Encoding)?;
        if data.is_empty() || data.len() % PAD_BLOCK != 0 {
            return Err(PushError::Encoding);
        }
        let iv: [u8; 16] = self.key[..16].try_into().map_err(|_| PushError::BadKey)?;
        let dec = Dec::new(&self.key.into(), &iv.into());
        let plain = dec
            .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut data)
            .map_err(|_| PushError::Encoding)?;
        let pad = usize::from(*plain.last().ok_or(PushError::Layout)?);
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(PushError::Layout);
        }
        let full = &plain[..plain.len() - pad];
        if full.len() < 20 {
            return Err(PushError::Layout);
        }
        let n = u32::from_be_bytes([full[16], full[17], full[18], full[19]]) as usize;
        let rest = &full[20..];
        if n > rest.len() {
            return Err(PushError::Layout);
        }
        let (msg, receiver) = rest.split_at(n);
        let receiver = String::from_utf8_lossy(receiver).into_owned();
        if receiver != self.receiver {
            return Err(PushError::Receiver(receiver));
        }
        String::from_utf8(msg.to_vec()).map_err(|_| PushError::Layout)
    }

    /// Encrypts `msg` with these 16 random bytes (the emulator's pushes; tests).
    pub fn encrypt(&self, msg: &str, random: &[u8; 16]) -> String {
        let mut full = Vec::with_capacity(msg.len() + 64);
        full.extend_from_slice(random);
        full.extend_from_slice(&u32::try_from(msg.len()).unwrap_or(u32::MAX).to_be_bytes());
        full.extend_from_slice(msg.as_bytes());
        full.extend_from_slice(self.receiver.as_bytes());
        let pad = PAD_BLOCK - full.len() % PAD_BLOCK;
        full.extend(std::iter::repeat_n(u8::try_from(pad).unwrap_or(32), pad));
        let iv: [u8; 16] = self.key[..16].try_into().unwrap_or([0; 16]);
        let len = full.len();
        let enc = Enc::new(&self.key.into(), &iv.into());
        let out = enc
            .encrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut full, len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(out)
    }
}

/// The text of the first `<name>…</name>` element of `xml` (CDATA or plain, entities of plain text
/// decoded); `None` when absent. Enough for WeChat's flat push XML; not a general XML parser.
pub fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let inner = xml[start..end].trim();
    if let Some(cdata) = inner
        .strip_prefix("<![CDATA[")
        .and_then(|r| r.strip_suffix("]]>"))
    {
        return Some(cdata.to_owned());
    }
    Some(
        inner
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// A decrypted push a release tool acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// `weapp_audit_success` / `_fail` / `_delay`.
    Audit {
        /// `success`, `fail` or `delay`.
        result: String,
        /// `ToUserName`: the mini program's original id (gh_…).
        to_user: String,
        /// `CreateTime`.
        create_time: u64,
        /// `Reason` (fail, delay).
        reason: String,
        /// `ScreenShot` media ids (`|`-separated).
        screenshot: String,
    },
    /// `component_verify_ticket`.
    Ticket {
        /// The ticket.
        ticket: String,
        /// `CreateTime`.
        create_time: u64,
    },
    /// Another event or info type (authorized, unauthorized, a user message …): not acted on.
    Other {
        /// `Event`, `InfoType` or `MsgType`.
        kind: String,
        /// `CreateTime`.
        create_time: u64,
    },
}

/// Reads a decrypted push.
pub fn parse(msg: &str) -> Push {
    let create_time = element(msg, "CreateTime")
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    if let Some(info) = element(msg, "InfoType") {
        if info == "component_verify_ticket" {
            if let Some(ticket) = element(msg, "ComponentVerifyTicket") {
                return Push::Ticket {
                    ticket,
                    create_time,
                };
            }
        }
        return Push::Other {
            kind: info,
            create_time,
        };
    }
    let event = element(msg, "Event").unwrap_or_default();
    if let Some(result) = event.strip_prefix("weapp_audit_") {
        if matches!(result, "success" | "fail" | "delay") {
            return Push::Audit {
                result: result.to_owned(),
                to_user: element(msg, "ToUserName").unwrap_or_default(),
                create_time,
                reason: element(msg, "Reason").unwrap_or_default(),
                screenshot: element(msg, "ScreenShot").unwrap_or_default(),
            };
        }
    }
    Push::Other {
        kind: if event.is_empty() {
            element(msg, "MsgType").unwrap_or_default()
        } else {
            event
        },
        create_time,
    }
}

/// The outer XML WeChat posts to the message URL (the emulator's pushes).
pub fn envelope(to_user: &str, encrypt: &str) -> String {
    format!("<xml><ToUserName><![CDATA[{to_user}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
}

/// The decrypted XML of a review result push, as WeChat documents it.
pub fn audit_xml(
    to_user: &str,
    event: &str,
    create_time: u64,
    reason: &str,
    screenshot: &str,
) -> String {
    let time_tag = match event {
        "weapp_audit_success" => "SuccTime",
        "weapp_audit_fail" => "FailTime",
        _ => "DelayTime",
    };
    let mut x = format!(
        "<xml><ToUserName><![CDATA[{to_user}]]></ToUserName><FromUserName><![CDATA[o_system]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
    );
    if !reason.is_empty() {
        x.push_str(&format!("<Reason><![CDATA[{reason}]]></Reason>"));
    }
    x.push_str(&format!("<{time_tag}>{create_time}</{time_tag}>"));
    if !screenshot.is_empty() {
        x.push_str(&format!("<ScreenShot>{screenshot}</ScreenShot>"));
    }
    x.push_str("</xml>");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_ENCRYPT: &str = "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==";
    const V1_MSG: &str = "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>\n<CreateTime>1715943329</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[debug_demo]]></Event>\n<debug_str><![CDATA[hello world]]></debug_str>\n</xml>";

    fn v1() -> Crypt {
        Crypt::new("AAAAA", &"A".repeat(43), "wx134c8103faa5a59e").unwrap()
    }

    /// V1, the official page's vector: signature, decryption (pad byte 22), the URL `signature`,
    /// and the reply half encrypted byte for byte.
    #[test]
    fn official_vector_v1() {
        let c = v1();
        assert_eq!(
            c.sign("1715943329", "1590219412", V1_ENCRYPT),
            "6c12a4205838198b8fa631b3220723bb07f1015c"
        );
        assert!(c.verify(
            "1715943329",
            "1590219412",
            V1_ENCRYPT,
            "6C12A4205838198B8FA631B3220723BB07F1015C"
        ));
        assert!(!c.verify(
            "1715943330",
            "1590219412",
            V1_ENCRYPT,
            "6c12a4205838198b8fa631b3220723bb07f1015c"
        ));
        assert_eq!(c.decrypt(V1_ENCRYPT).unwrap(), V1_MSG);
        assert_eq!(
            signature(&["AAAAA", "1715943329", "1590219412"]),
            "cc0c594499c1634947d5b502f158ee518947db27"
        );
        let reply = c.encrypt(
            "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>",
            b"999951349e8ee746",
        );
        assert_eq!(reply, "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7");
        assert_eq!(
            c.sign("1713424427", "415670741", &reply),
            "03e0812039325c2712ef5f0f980fd14c70d6e307"
        );
        // the message of another platform is refused
        let other = Crypt::new("AAAAA", &"A".repeat(43), "wx0000000000000000").unwrap();
        assert_eq!(
            other.decrypt(V1_ENCRYPT),
            Err(PushError::Receiver("wx134c8103faa5a59e".into()))
        );
    }

    /// V2 and V3 (the official samples, decrypt only), V4 (WxJava: the IV, byte lengths of
    /// Chinese text), V7 (pad byte 26 on the encrypt side).
    #[test]
    fn sample_and_sdk_vectors() {
        let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let c = Crypt::new("spamtest", key, "wx2c2769f8efd9abc2").unwrap();
        let v2 = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
        assert!(c.verify(
            "1409735669",
            "1320562132",
            v2,
            "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
        ));
        let m = c.decrypt(v2).unwrap();
        assert!(
            m.contains("<Content><![CDATA[abcdteT]]></Content>")
                && m.contains("6054768590064713728"),
            "{m}"
        );
        let v3 = "mfBCs65c67CeJw22u4VT2TD73q5H06+ocrAIxswCaeZ/d/Lw0msSZFHY0teqgSYiI1zR2gD2DKrB3TIrmX/liNSDrGqS8jSI/WPeKB5VPr7Ezr7gomZAyGCwJSgT1TRFWPfONGJMxuj2nk4faTuspAuVIFQ6SHwZuJBZC7mcJp7Cgr9cUhATQWDbOPaE7ukZBTV2YqyzH+UI2AK+J1S47cE79k1RX8t0hcTz/O0hlK8DGXKnvYv88qKQcI7z4iaajqHfRVZKBNyOODabs+It+ZfM3dWTeFcPgDbGtIEnpt/EDtuuA/zMvtkaKdHdswPnVZQ+xdwbYr3ldGvfT8HlEYEgkgKaThxTFobVlwzu2ZkXCjicbP3xdr15Iq48ObgzPpqYuZ3IEoyggZDKClquk0u0orMck4GTF/XyE8yGzc4=";
        assert!(c.verify(
            "1410349438",
            "298025754",
            v3,
            "003fee52ecc56afb46c00b5c7721be87860ce785"
        ));
        assert!(c.decrypt(v3).unwrap().contains("6057404712141979648"));
        let wxjava = Crypt::new("pamtest", key, "wxb11529c136998cb6").unwrap();
        assert_eq!(
            wxjava.encrypt("我是中文abcd123", b"aaaabbbbccccdddd"),
            "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
        );
        let v7 = Crypt::new("spamtest", key, "wx134c8103faa5a59e").unwrap();
        let msg = "<xml><AppId><![CDATA[wx134c8103faa5a59e]]></AppId><CreateTime>1413192605</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[some_verify_ticket]]></ComponentVerifyTicket></xml>";
        let enc = v7.encrypt(msg, b"0123456789abcdef");
        assert_eq!(enc, "Q3stYC6hdFzMh9T8HCvyDNut4a+NONmUgauvvEgdDPwkg9C9JeQFG59GIAdGwtCeenkNZHeIw3pyopG6khxu8PkstPyouIkylroRuCPfBdsJuQ+iiowlp/u3083A4IwSTEeEtkKt0SgYaU7DUG4vbfDMsyO1PsitAlLjDt6TyH6PeEE+bpS5FkzZp21kykPjqN7SbLUeDuEjUZJiJyUn9DtAgPk7YTE+S9s9VhxGCPGtn+fajZyGwLITB397iK9Z3L6+c+v7SB/wX35Qx1s0Z19E5+OIYxXN6Z9CVdtxtxXuFdpviCj6R2pdePgWU1qDhjDfwh5K4cyW5bcBIuvUWTep+wvN7IDXXFpOkeD12exBn398wjQqoSd3Zo6EmRy8");
        assert_eq!(
            v7.sign("1700000000", "123456789", &enc),
            "62ecb2e48728237cf778f600b86bd670ae0b50ec"
        );
        assert_eq!(
            parse(&v7.decrypt(&enc).unwrap()),
            Push::Ticket {
                ticket: "some_verify_ticket".into(),
                create_time: 1_413_192_605
            }
        );
    }

    #[test]
    fn broken_input_is_refused_not_guessed() {
        let c = v1();
        assert_eq!(c.decrypt("not base64!"), Err(PushError::Encoding));
        assert_eq!(c.decrypt("QUJD"), Err(PushError::Encoding), "3 bytes");
        // right size, wrong key: the layout check fails (or the receiver)
        let other_key = Crypt::new("AAAAA", &"B".repeat(43), "wx134c8103faa5a59e").unwrap();
        assert!(other_key.decrypt(V1_ENCRYPT).is_err());
        for bad in ["short", &"A".repeat(44), &format!("{}!", "A".repeat(42))] {
            assert!(Crypt::new("t", bad, "wx").is_err(), "{bad}");
        }
    }

    #[test]
    fn pushes_are_read() {
        let fail = audit_xml(
            "gh_fb9688c2a4b2",
            "weapp_audit_fail",
            1_488_856_591,
            "1:账号信息不符合规范:<br>(1):包含色情因素",
            "xxx|yyy",
        );
        assert_eq!(
            parse(&fail),
            Push::Audit {
                result: "fail".into(),
                to_user: "gh_fb9688c2a4b2".into(),
                create_time: 1_488_856_591,
                reason: "1:账号信息不符合规范:<br>(1):包含色情因素".into(),
                screenshot: "xxx|yyy".into(),
            }
        );
        // the documented success example, verbatim
        let success = "<xml>\n<ToUserName><![CDATA[gh_fb9688c2a4b2]]></ToUserName>\n<FromUserName><![CDATA[od1P50M-fNQI5Gcq-trm4a7apsU8]]></FromUserName>\n<CreateTime>1488856741</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[weapp_audit_success]]></Event>\n<SuccTime>1488856741</SuccTime>\n</xml>";
        assert!(
            matches!(parse(success), Push::Audit { ref result, create_time: 1_488_856_741, .. } if result == "success")
        );
        assert_eq!(
            parse(V1_MSG),
            Push::Other {
                kind: "debug_demo".into(),
                create_time: 1_715_943_329
            }
        );
        let unauthorized = "<xml><AppId>x</AppId><CreateTime>1413192760</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wx1</AuthorizerAppid></xml>";
        assert_eq!(
            parse(unauthorized),
            Push::Other {
                kind: "unauthorized".into(),
                create_time: 1_413_192_760
            }
        );
        assert_eq!(
            element("<xml><A>a &amp; b</A></xml>", "A").as_deref(),
            Some("a & b")
        );
        assert_eq!(
            element(&envelope("gh_1", "E=="), "Encrypt").as_deref(),
            Some("E==")
        );
    }
}
