import GridworkCore
/// Names for demo people. Surname weights follow published national
/// frequencies (per cent of the population, 2020 household register
/// statistics), nudged toward surnames common in Hunan; given names are
/// drawn from pools typical of each generation. Every person is invented.
enum Names {
    static let surnames = Weighted<String>([
        ("王", 7.1), ("李", 7.0), ("张", 6.8), ("刘", 5.6), ("陈", 5.0), ("杨", 3.1), ("黄", 2.3), ("赵", 2.1),
        ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.4), ("马", 1.2), ("朱", 1.2), ("胡", 1.3), ("郭", 1.1),
        ("何", 1.2), ("罗", 1.6), ("高", 1.0), ("林", 1.0), ("郑", 0.8), ("梁", 0.8), ("谢", 0.9), ("唐", 1.1),
        ("宋", 0.7), ("许", 0.7), ("邓", 0.9), ("彭", 0.9), ("曾", 0.8), ("肖", 0.8), ("谭", 0.7), ("袁", 0.6),
        ("邹", 0.5), ("蒋", 0.6), ("廖", 0.5), ("田", 0.5), ("龙", 0.5), ("贺", 0.4), ("易", 0.3), ("钟", 0.4),
        ("魏", 0.4), ("段", 0.3), ("雷", 0.3), ("夏", 0.3), ("伍", 0.3), ("姚", 0.3), ("阳", 0.2), ("孟", 0.2),
        ("匡", 0.1), ("欧阳", 0.1),
    ])

    static let maleOld = ["建国", "建华", "国庆", "志强", "德明", "正清", "光明", "永福", "长生", "振华", "秋生", "金山", "德胜", "新民", "立军", "卫东", "红军", "桂生", "树林", "春来"]
    static let femaleOld = ["秀英", "桂英", "玉兰", "淑珍", "桂兰", "凤英", "秀兰", "翠华", "春梅", "冬梅", "金凤", "素珍", "美华", "爱华", "月娥", "腊梅", "满英", "菊香", "兰芝", "顺英"]
    static let maleMid = ["伟", "强", "军", "勇", "斌", "涛", "磊", "明", "辉", "华", "海波", "志刚", "建军", "小军", "文斌", "晓东", "俊", "鹏", "剑", "峰"]
    static let femaleMid = ["芳", "丽", "娟", "敏", "静", "燕", "艳", "霞", "丽华", "红梅", "小红", "海燕", "慧", "琴", "晓玲", "婷", "颖", "玲", "莉", "萍"]
    static let maleYoung = ["浩然", "子轩", "宇轩", "梓豪", "俊杰", "博文", "一鸣", "天佑", "思远", "晨阳", "睿", "皓", "子墨", "宇航", "泽宇", "奕辰", "家豪", "明轩", "文博", "煜"]
    static let femaleYoung = ["子涵", "梓涵", "欣怡", "诗涵", "雨桐", "可馨", "一诺", "思彤", "佳怡", "语嫣", "若曦", "梦琪", "雅婷", "紫萱", "悦", "佳琪", "心怡", "晨曦", "欣妍", "沐阳"]

    static func person(surname: String, sex: Sex, birthYear: Int, _ rng: inout SeededRandom) -> String {
        let pool: [String] = switch (sex, birthYear) {
        case (.male, ..<1970): maleOld
        case (.female, ..<1970): femaleOld
        case (.male, ..<2000): maleMid
        case (.female, ..<2000): femaleMid
        case (.male, _): maleYoung
        case (.female, _): femaleYoung
        }
        return surname + rng.pick(pool)
    }
}


