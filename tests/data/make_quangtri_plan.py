"""Writes tests/data/ke-hoach-le-ky-niem-80-nam-ttls-quang-tri.docx, the plan the import test reads.

A made-up but realistic plan of a provincial People's Committee (another ceremony and another set
of agencies than the bundled template): Decree 30 header, grounds, purpose, time and place, then
the "Phân công nhiệm vụ" table with the headings a province's staff type ("STT | Nhiệm vụ | Đơn
vị chủ trì | Đơn vị phối hợp | Thời hạn | Ghi chú"), phase rows merged across, abbreviations,
vague groups, several leads in a cell, and the usual deadline phrases. Run it again after an edit:
`.venv/bin/python tests/data/make_quangtri_plan.py`.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).with_name("ke-hoach-le-ky-niem-80-nam-ttls-quang-tri.docx")

# (STT, nhiệm vụ, chủ trì, phối hợp, thời hạn, ghi chú) — a str is a phase row
ROWS: list = [
    "A. CÔNG TÁC CHUẨN BỊ",
    (
        "1",
        "Xây dựng kịch bản chi tiết, chương trình Lễ kỷ niệm; dự thảo diễn văn của lãnh đạo tỉnh",
        "Sở Lao động - Thương binh và Xã hội",
        "Sở VHTTDL, Văn phòng UBND tỉnh",
        "Trước ngày 15/5/2027",
        "",
    ),
    (
        "2",
        "Tham mưu thành lập Ban Tổ chức và các tiểu ban giúp việc",
        "Sở LĐTBXH",
        "Sở Nội vụ",
        "Trước ngày 20/5/2027",
        "",
    ),
    (
        "3",
        "Lập dự toán kinh phí tổ chức Lễ, trình UBND tỉnh phê duyệt",
        "Sở Tài chính",
        "Sở LĐ-TB&XH và các đơn vị liên quan",
        "Tháng 5/2027",
        "",
    ),
    (
        "4",
        "Rà soát, lập danh sách đại biểu Trung ương, các tỉnh bạn, Mẹ Việt Nam anh hùng, thương binh, "
        "thân nhân liệt sĩ; phát hành giấy mời",
        "Văn phòng UBND tỉnh",
        "Sở Lao động, Thương binh và Xã hội; Sở Ngoại vụ",
        "Trước 30 ngày tổ chức Lễ",
        "",
    ),
    (
        "5",
        "Tổ chức thăm, tặng quà gia đình chính sách, người có công tiêu biểu",
        "Ủy ban MTTQ Việt Nam tỉnh",
        "Hội LHPN tỉnh, Tỉnh đoàn, Hội CCB tỉnh",
        "Từ ngày 01/7 đến ngày 25/7/2027",
        "",
    ),
    (
        "6",
        "Tu bổ, chỉnh trang Nghĩa trang liệt sĩ quốc gia Trường Sơn và Nghĩa trang liệt sĩ quốc gia Đường 9",
        "Ban Quản lý các Nghĩa trang liệt sĩ quốc gia",
        "Sở Xây dựng, UBND huyện Gio Linh",
        "Trước ngày 10/7/2027",
        "Kinh phí từ nguồn trùng tu",
    ),
    (
        "7",
        "Chỉnh trang đô thị, vệ sinh môi trường các tuyến đường dẫn vào khu vực tổ chức Lễ",
        "UBND thành phố Đông Hà",
        "Sở Xây dựng; Sở TN&MT",
        "Trước 05 ngày tổ chức Lễ",
        "",
    ),
    (
        "8",
        "Bảo đảm điện chiếu sáng, điện dự phòng cho khu vực Lễ và các điểm tổ chức thắp nến tri ân",
        "Công ty Điện lực Quảng Trị",
        "UBND thành phố Đông Hà",
        "Trước ngày 20/7/2027",
        "",
    ),
    (
        "9",
        "Bảo đảm thông tin liên lạc, đường truyền cho truyền hình trực tiếp",
        "VNPT Quảng Trị",
        "Viettel Quảng Trị, Đài PT-TH tỉnh",
        "Trước ngày 22/7/2027",
        "",
    ),
    (
        "10",
        "Xây dựng phương án phân luồng giao thông, bố trí bãi đỗ xe cho đại biểu và nhân dân",
        "Sở GTVT",
        "Công an tỉnh",
        "Trước 10 ngày tổ chức Lễ",
        "",
    ),
    (
        "11",
        "Xây dựng phương án bảo đảm an ninh, trật tự, phòng chống cháy nổ",
        "Công an tỉnh",
        "Bộ CHQS tỉnh, Bộ Chỉ huy Bộ đội Biên phòng tỉnh",
        "Trước ngày 10/7/2027",
        "",
    ),
    (
        "12",
        "Bố trí đội cấp cứu lưu động, xe cứu thương, kiểm tra an toàn thực phẩm",
        "Sở Y tế",
        "Bệnh viện Đa khoa tỉnh",
        "Trước ngày 20/7/2027",
        "",
    ),
    (
        "13",
        "Dàn dựng chương trình nghệ thuật, tập luyện diễn viên, quần chúng",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Tỉnh đoàn, Nhà hát Nghệ thuật truyền thống tỉnh",
        "Tháng 6/2027",
        "",
    ),
    (
        "14",
        "Thiết kế, thi công sân khấu, pa nô, khẩu hiệu, trang trí khánh tiết",
        "Sở VHTTDL",
        "UBND thành phố Đông Hà, Trung tâm Văn hóa - Điện ảnh tỉnh",
        "Trước ngày 23/7/2027",
        "",
    ),
    "B. CÔNG TÁC TUYÊN TRUYỀN",
    (
        "15",
        "Ban hành đề cương tuyên truyền kỷ niệm 80 năm Ngày Thương binh - Liệt sĩ",
        "Ban Tuyên giáo Tỉnh ủy",
        "Sở TT&TT, Sở LĐTBXH",
        "Trước ngày 31/5/2027",
        "",
    ),
    (
        "16",
        "Tuyên truyền trên báo chí, hệ thống thông tin cơ sở, mạng xã hội",
        "Sở Thông tin và Truyền thông",
        "Báo Quảng Trị, Đài PT-TH Quảng Trị",
        "Từ ngày 15/6 đến ngày 27/7/2027",
        "",
    ),
    (
        "17",
        "Treo cờ, băng rôn, khẩu hiệu trên các tuyến phố chính",
        "UBND thành phố Đông Hà",
        "Các sở, ngành liên quan",
        "Trước ngày 20/7/2027",
        "",
    ),
    (
        "18",
        'Tổ chức tọa đàm "Mãi mãi khắc ghi" với thương binh, cựu chiến binh tiêu biểu',
        "Hội Cựu chiến binh tỉnh",
        "Báo Quảng Trị",
        "Tháng 6/2027",
        "",
    ),
    (
        "19",
        "Truyền hình trực tiếp Lễ kỷ niệm trên sóng QRTV",
        "Đài Phát thanh và Truyền hình tỉnh",
        "VNPT Quảng Trị",
        "Theo chương trình",
        "",
    ),
    "C. TỔ CHỨC LỄ KỶ NIỆM",
    (
        "20",
        "Tổng duyệt chương trình Lễ kỷ niệm",
        "Sở VHTTDL",
        "Các đơn vị tham gia chương trình",
        "Tổng duyệt 19h00 ngày 24/7/2027",
        "",
    ),
    (
        "21",
        "Dâng hương tại Nghĩa trang liệt sĩ quốc gia Trường Sơn",
        "Văn phòng UBND tỉnh",
        "Bộ CHQS tỉnh, Ban Quản lý các Nghĩa trang liệt sĩ quốc gia",
        "7h00 ngày 26/7/2027",
        "",
    ),
    (
        "22",
        "Đón tiếp, bố trí chỗ ngồi cho đại biểu, Mẹ Việt Nam anh hùng",
        "Văn phòng UBND tỉnh",
        "Tỉnh đoàn",
        "18h30 ngày 26/7/2027",
        "",
    ),
    ("23", "Bảo đảm an ninh, trật tự khu vực Lễ", "Công an tỉnh", "Bộ CHQS tỉnh", "Thường xuyên", ""),
    (
        "24",
        'Chương trình nghệ thuật "Bản hùng ca bất tử"',
        "Sở VHTTDL",
        "Nhà hát Nghệ thuật truyền thống tỉnh",
        "20h15 ngày 26/7/2027",
        "",
    ),
    (
        "25",
        "Lễ thắp nến tri ân tại các nghĩa trang liệt sĩ",
        "Tỉnh đoàn, UBND các huyện, thị xã, thành phố",
        "Hội LHPN tỉnh",
        "Từ 21h30 đến 23h00 ngày 26/7/2027",
        "",
    ),
    ("26", "Trực cấp cứu y tế tại khu vực Lễ", "Sở Y tế", "", "19h00 ngày 26/7/2027", ""),
    "D. CÔNG TÁC SAU LỄ",
    (
        "27",
        "Thu dọn, hoàn trả mặt bằng khu vực tổ chức Lễ",
        "UBND thành phố Đông Hà",
        "Sở VHTTDL",
        "Sau Lễ 03 ngày",
        "",
    ),
    ("28", "Quyết toán kinh phí tổ chức Lễ", "Sở Tài chính", "Các đơn vị được giao kinh phí", "Sau Lễ 30 ngày", ""),
    (
        "29",
        "Báo cáo kết quả tổ chức Lễ kỷ niệm với Ban Thường vụ Tỉnh ủy, UBND tỉnh",
        "Sở LĐTBXH",
        "Văn phòng UBND tỉnh",
        "Sau Lễ 15 ngày",
        "",
    ),
    (
        "30",
        "Đề xuất khen thưởng tập thể, cá nhân có thành tích trong tổ chức Lễ",
        "Sở Nội vụ",
        "Ban Thi đua - Khen thưởng tỉnh",
        "Tháng 8/2027",
        "",
    ),
]


def build() -> bytes:
    import io

    import docx
    from docx.enum.section import WD_ORIENT  # noqa: F401 - portrait A4
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    doc = docx.Document()
    style = doc.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(13)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(20), Mm(20), Mm(30), Mm(15)

    head = doc.add_table(rows=1, cols=2)
    left, right = head.rows[0].cells
    left.text = "ỦY BAN NHÂN DÂN\nTỈNH QUẢNG TRỊ\n\nSố: 85/KH-UBND"
    right.text = (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\nQuảng Trị, ngày 05 tháng 5 năm 2027"
    )

    def para(text: str, bold: bool = False, center: bool = False, italic: bool = False) -> None:
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    para("KẾ HOẠCH", bold=True, center=True)
    para("Tổ chức Lễ kỷ niệm 80 năm Ngày Thương binh - Liệt sĩ (27/7/1947 - 27/7/2027)", bold=True, center=True)
    para(
        "Căn cứ Kế hoạch số 112/KH-BCĐ ngày 02/3/2027 của Ban Chỉ đạo Trung ương; thực hiện chỉ đạo "
        "của Ban Thường vụ Tỉnh ủy, UBND tỉnh ban hành Kế hoạch tổ chức Lễ kỷ niệm như sau:"
    )
    para("I. MỤC ĐÍCH, YÊU CẦU", bold=True)
    para(
        "- Tổ chức trang trọng, thiết thực, tiết kiệm; thể hiện lòng biết ơn sâu sắc đối với các anh hùng "
        "liệt sĩ, thương binh, bệnh binh và gia đình người có công với cách mạng."
    )
    para("II. THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN", bold=True)
    para("1. Thời gian: 20 giờ 00 phút, ngày 26 tháng 7 năm 2027 (tối thứ Hai).")
    para("2. Địa điểm: Quảng trường Trung tâm thành phố Đông Hà.")
    para("3. Thành phần: khoảng 2.000 đại biểu (có danh sách kèm theo).")
    para("III. PHÂN CÔNG NHIỆM VỤ", bold=True)

    table = doc.add_table(rows=1, cols=6)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells, ("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời hạn", "Ghi chú")
    ):
        cell.text = text
    for row in ROWS:
        cells = table.add_row().cells
        if isinstance(row, str):
            merged = cells[0].merge(cells[5])
            merged.text = row
            continue
        for cell, text in zip(cells, row):
            cell.text = text
    para("IV. TỔ CHỨC THỰC HIỆN", bold=True)
    para(
        "Yêu cầu các sở, ban, ngành, địa phương triển khai thực hiện; báo cáo kết quả về Sở Lao động - "
        "Thương binh và Xã hội trước ngày 10/8/2027 để tổng hợp, báo cáo UBND tỉnh."
    )
    para("TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH", bold=True, center=True)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(build())
    print(f"wrote {OUT}")
