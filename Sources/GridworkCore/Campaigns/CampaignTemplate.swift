/// A campaign to start from: its title, instructions and form, as a county has run it before.
public struct CampaignTemplate: Sendable, Equatable {
    public let id: String
    public let title: String
    public let instructions: String
    public let form: CampaignForm
    /// Days from today to the suggested deadline.
    public let days: Int

    public static func named(_ id: String) -> CampaignTemplate? { all.first { $0.id == id } }

    public static let all: [CampaignTemplate] = [epidemic, fire, population]

    /// 流调排查: who lives here was at the listed places or met the listed people, and how they are now.
    public static let epidemic = CampaignTemplate(
        id: "epidemic", title: "流调排查",
        instructions: "逐户询问近14天行程和健康状况。有发热、咳嗽等症状的,当场记录并转为事项,由社区联系卫生院上门。不在家的户当天再走访一次,可电话核实。",
        form: CampaignForm(fields: [
            CampaignField(key: "q1", label: "近14天是否到过通报的地点或接触过通报人员", kind: .yesNo, required: true),
            CampaignField(key: "q2", label: "到过的地点或接触的人员", kind: .text, required: true, showIf: .init(field: "q1", equals: "是")),
            CampaignField(key: "q3", label: "最后一次接触日期", kind: .date, showIf: .init(field: "q1", equals: "是")),
            CampaignField(key: "q4", label: "家中是否有人发热(37.3℃以上)或咳嗽", kind: .yesNo, required: true,
                          finding: .init(equals: "是", category: "0801")),
            CampaignField(key: "q5", label: "有症状的人数", kind: .number, showIf: .init(field: "q4", equals: "是")),
            CampaignField(key: "q6", label: "在家人数", kind: .number, required: true),
            CampaignField(key: "q7", label: "备注", kind: .text),
        ]), days: 1)

    /// 消防隐患排查: e-bike charging, blocked exits, gas and wiring.
    public static let fire = CampaignTemplate(
        id: "fire", title: "消防隐患排查",
        instructions: "入户及楼道检查:电动车是否在室内或楼道充电、楼道和安全出口是否堵塞、燃气和电线是否老化。发现隐患拍照,当场告知住户,需处置的转为事项。",
        form: CampaignForm(fields: [
            CampaignField(key: "q1", label: "电动车是否在室内或楼道充电", kind: .yesNo, required: true, finding: .init(equals: "是", category: "0202")),
            CampaignField(key: "q2", label: "楼道或安全出口是否堵塞", kind: .yesNo, required: true, finding: .init(equals: "是", category: "0201")),
            CampaignField(key: "q3", label: "燃气和电线情况", kind: .single, options: ["正常", "燃气管老化", "电线老化或私拉乱接"], required: true,
                          finding: .init(equals: "燃气管老化", category: "0204")),
            CampaignField(key: "q4", label: "是否配有灭火器", kind: .yesNo),
            CampaignField(key: "q5", label: "隐患照片", kind: .photo, showIf: .init(field: "q2", equals: "是")),
            CampaignField(key: "q6", label: "已告知住户的整改要求", kind: .text),
        ]), days: 7)

    /// 人口信息核查: is the registry right about who lives here.
    public static let population = CampaignTemplate(
        id: "population", title: "人口信息核查",
        instructions: "核对本户在册人员是否与实际居住一致;有新生儿、迁入、迁出、死亡未登记的,记录后由网格员在系统中办理。",
        form: CampaignForm(fields: [
            CampaignField(key: "q1", label: "在册人员与实际居住是否一致", kind: .yesNo, required: true),
            CampaignField(key: "q2", label: "不一致的情况", kind: .multiple, options: ["有人已迁出", "有人迁入未登记", "有新生儿未登记", "有人已去世", "联系电话变更"],
                          required: true, showIf: .init(field: "q1", equals: "否")),
            CampaignField(key: "q3", label: "房屋用途", kind: .single, options: ["自住", "出租", "空置"], required: true),
            CampaignField(key: "q4", label: "实际居住人数", kind: .number, required: true),
            CampaignField(key: "q5", label: "说明", kind: .text),
        ]), days: 14)
}
