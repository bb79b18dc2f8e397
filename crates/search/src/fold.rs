//! Text normalisation ("folding") and language detection.
//!
//! Every text the engine sees (documents and queries alike) goes through
//! [`fold`] before it is segmented, so that Traditional and Simplified
//! Chinese, variant characters, full-width forms and letter case all meet on
//! one spelling.

use std::collections::HashSet;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// Variant characters folded *after* the Traditional→Simplified pass.
///
/// `fast2s` maps `帳` to `帐`, which is a valid Simplified character too; in a
/// crypto exchange's vocabulary it almost always means "account" (到帐/账户),
/// so it is folded on to `账`. The rest are variant or old forms that the
/// character table leaves alone.
const VARIANTS: &[(char, char)] = &[
    ('帐', '账'),
    ('著', '着'),
    ('値', '值'),
    ('眞', '真'),
    ('淸', '清'),
    ('羣', '群'),
    ('峯', '峰'),
    ('嚐', '尝'),
    ('祇', '只'),
    ('覆', '复'),
    ('裡', '里'),
    ('臺', '台'),
    ('裏', '里'),
    ('綫', '线'),
    ('戸', '户'),
    ('爲', '为'),
    ('僞', '伪'),
    ('吿', '告'),
    ('敎', '教'),
    ('歴', '历'),
    ('剝', '剥'),
    ('錶', '表'),
    ('鉅', '巨'),
    ('噁', '恶'),
    ('麽', '么'),
    ('甦', '苏'),
];

/// Characters used (almost) only in Simplified Chinese. Together with the
/// characters that the Traditional→Simplified table changes, this drives
/// [`detect_lang`]. Characters that are legitimately written in Traditional
/// text too (台, 里, 后, 面, 只, 系, 了 …) are deliberately absent.
const SIMPLIFIED_ONLY: &str = "这们时来说会还发现对开过进动种样经实问关点长么当没两见机应头无从门书马车东给间将军员学习认识让语话读写请谈论设计证试该详词调谢贝负贵买卖费资质货购贷赛赔败账币钱银铁钟锁键错阅闭闻阳阴际陆队险随难项顺预领频题颜风飞饭馆验龙齐亚严丽举义乐乡亏产亲亿仅仓优伤伟传债储儿兑兴养册农冻况决净凉减凤处击则刚创删别剂剧劝办务动劳势华协单卫厂厅历压厌县变叙号叹吗吨听启员响团园围国图圆圣场坏块坚坛垫够夺奋奖妆妇妈娱婴宁宝宠审宪宫宽宾寻导寿尔尘尝层属岁岂岗岛岭师帐带帮广庄庆库应废庙异弃张弯弹强归录彻径忆忧怀态怜总恋恳恶悦惊惧惩惯愤愿戏战扑执扩扫扬扰抚抛抢护报担拟拢拥择挂挚挡挤挥损换据摄摆摇摊撑数断旧显晋晒晓暂术杀杂权条杨杰极构枪柜标栈栋栏树档桥检欢欧残毁毕毙气汇汉汤沟泪泼泽洁洒浅测济浏浑浓涂涛润涨渐渔湾湿满滚滞滤滥滨灭灯灵灾灿炉炼烂烛烟烦烧热爱爷牵状犹独狭狮猎献环玛琐电画畅疗疯痒盏盐监盖盘睁矫矿码砖础硕确碍礼祷祸离积称稳穷窃竞笔笼筑简类粮纠红纤约级纪纯纲纳纵纷纸纹纺线练组细织终绍绑结绕绘络绝统继绩绪续维综绿缓编缘缩缴网罗罚罢职联聪肃肠肤肾肿胀胁胆胜胶脉脏脑脚脸腊腾舆舰舱艰艳艺节芦苹荐荣药获莱营萧萨蓝虑虽虾蚀蚁蛮补衬袭装览觉规视觅触订认讨训议讯记讲许讼访评诈诉诊译诗诚诞询误诱诸课谁谅谊谋谓谜谣谦谨谱贞贡财责贤贩贪贫贮贯贴贸贺赋赌赏赐赖赚赞赠赢赶趋跃践踪轨转轮软轰轻载较辅辆辈辉辑输辖辞边辽达迁运远违连迟适选逊递逻遗邓邮邻郑酱酿释鉴针钓钞钢钥钻铃铜铭铺链销锅锋锡锦镇镜闪闯闲闷闸闹阀阁阵阶陈陕隐隶雾韧韩页顶顾顿颗额飘饥饮饰饱饲饼驱驳驶驻驾骂骗骤鱼鲜鸟鸡鸣鸭鹅鹰麦黄齿龄";

fn simplified_only() -> &'static HashSet<char> {
    static SET: OnceLock<HashSet<char>> = OnceLock::new();
    SET.get_or_init(|| SIMPLIFIED_ONLY.chars().collect())
}

fn variant(c: char) -> Option<char> {
    VARIANTS.iter().find(|(from, _)| *from == c).map(|(_, to)| *to)
}

/// Is `c` a CJK ideograph (unified ideographs, extension A, compatibility)?
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// The result of [`fold_with_offsets`]: the folded text and, for every byte
/// of it, the byte range of the original character it came from.
#[derive(Debug, Clone)]
pub struct Folded {
    /// The folded text.
    pub text: String,
    /// `origin[b]` is the `(start, end)` byte range, in the original text, of
    /// the character that produced folded byte `b`.
    origin: Vec<(u32, u32)>,
    original_len: usize,
}

impl Folded {
    /// Maps a byte range of the folded text back to the original text.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        let s = if start >= self.origin.len() { self.original_len } else { self.origin[start].0 as usize };
        let e = if end == 0 {
            s
        } else if end > self.origin.len() {
            self.original_len
        } else {
            self.origin[end - 1].1 as usize
        };
        (s, e.max(s))
    }
}

/// Folds `text`: Traditional→Simplified, variant characters, full-width ASCII
/// to half-width, compatibility forms (NFKC), lowercase, and invisible
/// characters removed.
///
/// ```
/// assert_eq!(lifebuoy_search::fold("提幣到帳ＫＹＣ"), "提币到账kyc");
/// ```
pub fn fold(text: &str) -> String {
    fold_with_offsets(text).text
}

/// Like [`fold`], also keeping the way back from every folded byte to the
/// original character (used to highlight the original text).
pub fn fold_with_offsets(text: &str) -> Folded {
    // fast2s maps 3-byte characters to 3-byte characters only, so byte
    // offsets of `simp` and `text` coincide.
    let simp = fast2s::convert(text);
    debug_assert_eq!(simp.len(), text.len());
    let mut out = String::with_capacity(text.len());
    let mut origin: Vec<(u32, u32)> = Vec::with_capacity(text.len());
    let push = |out: &mut String, origin: &mut Vec<(u32, u32)>, c: char, s: usize, e: usize| {
        let before = out.len();
        out.push(c);
        for _ in before..out.len() {
            origin.push((s as u32, e as u32));
        }
    };
    for (start, c) in simp.char_indices() {
        let end = start + c.len_utf8();
        if c.is_ascii() {
            push(&mut out, &mut origin, c.to_ascii_lowercase(), start, end);
            continue;
        }
        if is_cjk(c) {
            let c = variant(c).unwrap_or(c);
            push(&mut out, &mut origin, c, start, end);
            continue;
        }
        match c as u32 {
            // full-width ASCII
            0xFF01..=0xFF5E => {
                let h = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
                push(&mut out, &mut origin, h.to_ascii_lowercase(), start, end);
            }
            // ideographic space, nbsp and friends
            0x3000 | 0x00A0 | 0x2000..=0x200A | 0x202F | 0x205F => push(&mut out, &mut origin, ' ', start, end),
            // zero-width characters, soft hyphen, BOM
            0x200B..=0x200D | 0x2060 | 0xFEFF | 0x00AD => {}
            _ => {
                if unicode_normalization::is_nfkc_quick(std::iter::once(c)) == unicode_normalization::IsNormalized::Yes
                {
                    for l in c.to_lowercase() {
                        push(&mut out, &mut origin, l, start, end);
                    }
                } else {
                    for n in std::iter::once(c).nfkc() {
                        let n = if is_cjk(n) { variant(n).unwrap_or(n) } else { n };
                        for l in n.to_lowercase() {
                            push(&mut out, &mut origin, l, start, end);
                        }
                    }
                }
            }
        }
    }
    Folded { text: out, origin, original_len: text.len() }
}

/// Detects the language of `text`: `"zh-Hant"`, `"zh-Hans"` or `"en"`.
///
/// Text with any CJK ideograph counts as Chinese (support questions often
/// mix in English words such as "USDT" or "KYC"); it is Traditional when it
/// has more Traditional-only characters than Simplified-only ones.
///
/// ```
/// use lifebuoy_search::detect_lang;
/// assert_eq!(detect_lang("我的提幣還沒到帳"), "zh-Hant");
/// assert_eq!(detect_lang("我的提币还没到账"), "zh-Hans");
/// assert_eq!(detect_lang("USDT 提币 pending"), "zh-Hans");
/// assert_eq!(detect_lang("Where is my withdrawal?"), "en");
/// ```
pub fn detect_lang(text: &str) -> &'static str {
    let mut cjk = 0usize;
    let mut trad = 0usize;
    let mut simp = 0usize;
    let simp_set = simplified_only();
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if !is_cjk(c) {
            continue;
        }
        cjk += 1;
        if simp_set.contains(&c) {
            simp += 1;
            continue;
        }
        let s: &str = c.encode_utf8(&mut buf);
        if (variant(c).is_some() && c != '著' && c != '覆') || fast2s::convert(s) != s {
            trad += 1;
        }
    }
    if cjk == 0 {
        "en"
    } else if trad > simp {
        "zh-Hant"
    } else {
        "zh-Hans"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_variants_and_width() {
        assert_eq!(fold("提幣"), "提币");
        assert_eq!(fold("到帳"), "到账");
        assert_eq!(fold("到賬"), "到账");
        assert_eq!(fold("臺灣"), "台湾");
        assert_eq!(fold("這裏"), "这里");
        assert_eq!(fold("Ｗｉｔｈｄｒａｗ　２ＦＡ"), "withdraw 2fa");
        assert_eq!(fold("USDT\u{200B}"), "usdt");
        assert_eq!(fold("帳戶"), "账户");
    }

    #[test]
    fn offsets_map_back() {
        let text = "Ｗ提幣ab";
        let f = fold_with_offsets(text);
        assert_eq!(f.text, "w提币ab");
        // "提币" in folded text is bytes 1..7, originally 3..9
        assert_eq!(f.original_range(1, 7), (3, 9));
        assert_eq!(&text[3..9], "提幣");
        assert_eq!(f.original_range(0, 1), (0, 3));
    }

    #[test]
    fn detects() {
        assert_eq!(detect_lang("提幣一直沒到帳怎麼辦"), "zh-Hant");
        assert_eq!(detect_lang("提币一直没到账怎么办"), "zh-Hans");
        assert_eq!(detect_lang("how to reset 2FA"), "en");
        assert_eq!(detect_lang("KYC 審核要多久"), "zh-Hant");
        assert_eq!(detect_lang("KYC 审核要多久"), "zh-Hans");
        assert_eq!(detect_lang("台灣"), "zh-Hant");
        assert_eq!(detect_lang(""), "en");
    }
}
