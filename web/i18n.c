/*
 * i18n.c - the interface's words: web_t(r, "English msgid") gives the Chinese words by default
 * and the English msgid when the language cookie says en. Until the gettext catalogues
 * (po/zh_CN.po) arrive, the Chinese words are in the table below, one block per page; the
 * switch to gettext changes this file alone.
 */
#include "web_int.h"

#include <string.h>

typedef struct word {
	const char *en, *zh;
} word;

static const word words[] = {
    /* every page (html.c, server.c) */
    {"hamlet station", "防控台账"},
    {"Log out", "退出"},
    {"Sync", "同步"},
    {"Back to the start page", "返回首页"},
    {"Not possible", "无法完成"},
    {"This address is not the station's.", "此地址不是本站的地址。"},
    {"There is no such page.", "没有这个页面。"},
    {"This page does not take that method.", "此页面不接受该请求方式。"},
    {"This form has expired or did not come from this station.", "表单已过期，或不是本站发出的。"},
    {"Open the page again and send it once more.", "请重新打开页面后再提交一次。"},
    {"Your role cannot open this page.", "你的角色不能打开此页面。"},
    {"What was sent is too large.", "提交的内容过大。"},
    {"The station ran out of memory.", "本站内存不足。"},
    {"The station could not do this.", "本站无法完成此操作。"},
    /* /login */
    {"Log in", "登录"},
    {"Name", "姓名"},
    {"Password", "密码"},
    {"Give your name and password.", "请填写姓名和密码。"},
    {"Wrong name or password.", "姓名或密码错误。"},
    {"Too many wrong passwords: wait a moment before trying again.",
     "密码错误次数过多，请稍候再试。"},
    /* /sync */
    {"Peer", "对端"},
    {"Address", "地址"},
    {"Last exchange", "上次同步"},
    {"Sent", "已发送"},
    {"Received", "已接收"},
    {"Waiting to send", "待发送"},
    {"Failures", "失败"},
    {"unknown (no sync yet)", "未知（尚未同步）"},
    {"Sync now", "立即同步"},
    {"Write a bundle", "写入数据包"},
    {"A sealed file of everything this station holds, for a USB stick.",
     "本站全部数据的加密文件，可存入U盘。"},
    {"File (a full path on this machine)", "文件（本机上的完整路径）"},
    {"Write the bundle", "写入数据包"},
    {"This station has no peers yet (hamlet peer add).", "本站尚无同步对端（hamlet peer add）。"},
    {"There is no such peer.", "没有这个对端。"},
    {"The sync failed with", "同步失败："},
    {"Synced with", "已同步："},
    {"sent", "发送"},
    {"received", "接收"},
    {"Give the bundle's full path, from /.", "请填写数据包的完整路径（以 / 开头）。"},
    {"The bundle was not written", "数据包未写入"},
    {"Bundle written to", "数据包已写入"},
    {"change sets", "个变更集"},
    {"bytes", "字节"},
    {"that file exists already; choose another name", "该文件已存在，请换一个文件名"},
    /* /today /register */
    {"Today", "今日工作"},
    {"Temperature list", "体温登记表"},
    {"Under monitoring", "在管人数"},
    {"Due this morning", "上午待测"},
    {"Due this evening", "下午待测"},
    {"Overdue", "逾期"},
    {"checks missed", "次未测"},
    {"Fever", "发热"},
    {"Isolation ends today", "今日解除隔离"},
    {"Enter the checks of", "录入体温"},
    {"this morning", "上午"},
    {"this evening", "下午"},
    {"Group", "分组"},
    {"per compound", "按小区"},
    {"per worker", "按负责人"},
    {"Compound", "小区"},
    {"Worker", "负责人"},
    {"no compound given", "未填小区"},
    {"no worker named", "未指定负责人"},
    {"Household", "户"},
    {"Isolation", "隔离方式"},
    {"Marks", "提示"},
    {"Last temp", "上次体温"},
    {"Temperature", "体温"},
    {"Method", "方式"},
    {"Symptoms", "症状"},
    {"Save all", "全部保存"},
    {"Rows left empty are not saved; if any row is wrong, nothing is saved.",
     "空行不保存；任何一行有误，全部不保存。"},
    {"No one waits for a check in this part of the day.", "这个时段没有待测人员。"},
    {"more are due: save these first, then the next ones are shown.",
     "人待测：请先保存本页，保存后显示其余人员。"},
    {"Checks saved:", "已保存体温记录："},
    {"Nothing to save: type a temperature first.", "没有可保存的内容：请先填写体温。"},
    {"rows are not right, so nothing was saved: correct them and save again.",
     "行有误，全部未保存：请改正后再保存。"},
    {"Choose the morning or the evening.", "请选择上午或下午。"},
    {"Print the list", "打印登记表"},
    {"Print", "打印"},
    {"Back to Today", "返回今日工作"},
    {"Date", "日期"},
    {"Checked by", "测温人"},
    {"Compound and household", "小区、户"},
    {"Ends", "解除日期"},
    {"Morning temperature", "上午体温"},
    {"Evening temperature", "下午体温"},
    {"Symptoms, notes", "症状、备注"},
    {"No one is under monitoring today.", "今日没有在管人员。"},
    {"Register a returnee", "登记返乡人员"},
    {"The person", "个人信息"},
    {"The journey", "行程"},
    {"The isolation", "隔离"},
    {"ID number", "身份证号"},
    {"Phone", "电话"},
    {"Sex", "性别"},
    {"Village", "所属村"},
    {"Coming from", "来自"},
    {"Departure date", "出发日期"},
    {"Arrival date", "到达日期"},
    {"Transport", "交通方式"},
    {"Route", "途经地"},
    {"Days of isolation", "隔离天数"},
    {"Register", "登记"},
    {"Register anyway", "仍然登记"},
    {"A person with the same ID number is registered here already:",
     "本站已登记一位身份证号相同的人员："},
    {"Nothing was written. If this is another person, or the same person coming back again, "
     "register anyway.",
     "本次未登记。如果不是同一人，或是同一人再次返乡，请点“仍然登记”。"},
    {"Nothing was written: correct the field marked.", "未登记：请改正标出的项目。"},
    {"This ID number cannot be right: check its 18 characters.",
     "身份证号不正确，请核对18位号码。"},
};

const char *web_t(const web_req *r, const char *msgid)
{
	if (r->en)
		return msgid;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(words[i].en, msgid))
			return words[i].zh;
	return msgid;
}
