"""Build the Word and PDF files of the judging corpora in ``bench/corpora/``.

The judging corpora are two fictional document sets that the product is
measured on (see each corpus's README.md). Their Markdown, HTML and text files
are edited by hand; the four binary files are generated here from the text
below, so that their content can be reviewed in a diff:

* ``tallystack-support/refunds-and-cancellation.docx``
* ``tallystack-support/service-level-agreement.pdf``
* ``hollinvale-housing/repairs-guide.docx``
* ``hollinvale-housing/rent-and-service-charges.pdf``

Output is deterministic (fixed metadata dates, normalised zip entries), so a
rebuild with the same library versions gives byte-identical files. Run from
the repository root::

    python bench/corpora/build.py            # write the four files
    python bench/corpora/build.py --check    # also check that each extracts

Needs python-docx and fpdf2 (``--check`` also needs pypdf). PDF text uses the
core Helvetica font, so it must be latin-1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from dataclasses import dataclass
from pathlib import Path

CORPORA_DIR = Path(__file__).resolve().parent
REPO_ROOT = CORPORA_DIR.parent.parent
sys.path.insert(0, str(REPO_ROOT / "scripts"))
from build_samples import _normalise_zip, new_pdf, write_docx_blocks, write_pdf_blocks  # noqa: E402

FIXED_DATE = dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=dt.timezone.utc)

# Blocks are (kind, payload) as in scripts/build_samples.py: ("title"|"meta"|"h1"|"h2"|"p", str),
# ("bullet"|"num", [str, ...]) and, in Word files only, ("table", [[header...], [row...], ...]).


@dataclass(frozen=True)
class Document:
    path: Path
    title: str
    author: str
    blocks: list


# --------------------------------------------------------------------------
# Tallystack (software company): billing, refunds and cancellation (.docx)
# --------------------------------------------------------------------------

REFUNDS = [
    ("title", "Billing, Refunds and Cancellation"),
    ("meta", "Tallystack customer document BRC-3. Issued 3 March 2025 by Imogen Tarrow-Vance, "
             "Head of Billing Operations, Quenfield Digital Ltd."),
    ("p", "This document explains how Tallystack subscriptions are billed, how to cancel one, "
          "when we give refunds and what happens to your data afterwards. Terms such as "
          "anniversary date and Billing Owner are explained in the glossary at the end."),

    ("h1", "1. When you are billed"),
    ("bullet", [
        "Monthly plans are billed on the same day each month as the day you first subscribed, "
        "which we call your anniversary date. If that day does not exist in a month (for "
        "example the 31st), you are billed on the last day of that month.",
        "Annual plans are billed in full, in advance, on the anniversary date each year.",
        "Extra users added during a billing period are charged straight away, pro rata, for "
        "the rest of the period.",
        "Only the Billing Owner can change the payment method, download invoices or cancel "
        "the subscription.",
    ]),

    ("h1", "2. Cancelling a monthly plan"),
    ("p", "You can cancel a monthly plan at any time under Settings › Billing › Cancel "
          "subscription. The cancellation takes effect at the end of the billing period you "
          "have already paid for, and your workspace works normally until then. We do not "
          "refund part months."),

    ("h1", "3. Cancelling an annual plan"),
    ("h2", "3.1 In the first fourteen days"),
    ("p", "If you cancel an annual plan within fourteen days of buying it for the first time, "
          "we refund the whole amount. This cooling-off right applies to a first purchase "
          "only, not to renewals."),
    ("h2", "3.2 After the first fourteen days"),
    ("p", "After that, you may still cancel an annual plan at any time. We refund the whole "
          "months that remain unused, less an administration charge of $40. The month in "
          "which you cancel counts as used."),
    ("h2", "3.3 Renewals"),
    ("p", "We email the Billing Owner 30 days before an annual plan renews. If a renewal goes "
          "through and you did not want it, cancel within seven days after the renewal date "
          "and we will refund the renewal in full."),

    ("h1", "4. Changing plan"),
    ("bullet", [
        "Upgrades take effect immediately. On the day you upgrade you pay the difference for "
        "the rest of the billing period.",
        "Downgrades take effect on your next billing date. The features of the higher plan "
        "stay available until then.",
        "If you remove users, the saving appears on your next invoice; we do not refund users "
        "removed part-way through a period.",
        "Moving from monthly to annual billing starts a new annual term on the day you "
        "switch, and the unused part of the current month is credited.",
    ]),

    ("h1", "5. How refunds are paid"),
    ("num", [
        "Ask for a refund from the Billing area of your workspace, or write to "
        "billing@tallystack.example with the name of your workspace.",
        "We confirm the amount by email. If we cannot approve the request, we explain why.",
        "Approved refunds are sent to the original payment method within five business days "
        "of approval. Your card issuer may take a further 3 to 10 days to show the money on "
        "your statement.",
        "Customers who pay by invoice receive a credit note, or a bank transfer within ten "
        "business days if they ask for one.",
    ]),
    ("p", "Refunds are made in US dollars. We are not responsible for differences caused by "
          "exchange rates or bank charges."),

    ("h1", "6. What we do not refund"),
    ("bullet", [
        "QuickStart onboarding, once the kickoff call has taken place.",
        "SMS packs, once any message from the pack has been sent.",
        "Guided Sessions cancelled with less than 48 hours' notice. Sessions cancelled "
        "earlier can be moved to another date free of charge.",
        "Sales tax, where the tax authority will not return it to us.",
    ]),

    ("h1", "7. If a payment fails"),
    ("p", "If a card payment fails, we try again 3, 7 and 14 days after the due date and email "
          "the Billing Owner each time. If the amount is still unpaid 21 days after the due "
          "date, the workspace becomes read-only. If it is still unpaid 45 days after the due "
          "date, the subscription is cancelled and section 8 applies. Paying the amount owed "
          "at any point before day 45 restores the workspace at once, with no reactivation "
          "fee."),

    ("h1", "8. Your data after cancellation"),
    ("bullet", [
        "For 30 days after a cancellation takes effect, the workspace stays available in "
        "read-only mode. You can view everything and export your data as CSV or JSON files.",
        "After those 30 days the workspace is locked, and 90 days after the cancellation date "
        "all of its data is permanently deleted. Copies in our backups disappear as the "
        "backups expire, within a further 35 days.",
        "If you need to keep your records for longer, for example for a tax inspection, "
        "switch on Archive Mode before the 30 days are up. Archive Mode costs $5 per month "
        "and keeps the workspace read-only for up to 2 years.",
    ]),

    ("h1", "9. Disputed charges"),
    ("p", "If you think a charge is wrong, contact billing@tallystack.example within 60 days of "
          "the invoice date and we will look into it. Please talk to us before you dispute a "
          "payment with your bank: if a chargeback is raised without contacting us first, we "
          "add a handling fee of $25 and may suspend the workspace until the matter is "
          "settled."),

    ("h1", "10. Glossary"),
    ("table", [
        ["Term", "Meaning"],
        ["Anniversary date", "The day of the month (monthly plans) or the date (annual plans) "
                             "on which your subscription started and on which it is billed."],
        ["Billing Owner", "The one user in a workspace who can see invoices, change the "
                          "payment method and cancel. Every workspace has exactly one."],
        ["Business day", "Monday to Friday, excluding the public holidays of Oszmere."],
        ["Business hours", "09:00 to 17:30 Oszmere Standard Time (OST) on a business day."],
        ["Credit note", "A document that reduces what you owe on future invoices, instead of "
                        "returning money to you."],
        ["Pro rata", "Charged or credited in proportion to the days left in a billing period."],
        ["Read-only mode", "Users can sign in, view and export data, but cannot create or "
                           "change records."],
        ["Workspace", "One Tallystack account for one business, with its own users, stock "
                      "locations and data."],
    ]),
]

# --------------------------------------------------------------------------
# Tallystack: Service Level Agreement (.pdf) -- latin-1 text only
# --------------------------------------------------------------------------

SLA = [
    ("title", "Tallystack Service Level Agreement"),
    ("meta", "Document SLA-7, version 7.0, effective 3 March 2025. Quenfield Digital Ltd, "
             "7 Carrow Mews, Oszmere OZ4 2HT."),

    ("h1", "1. Purpose"),
    ("p", "1.1 This Service Level Agreement (\"SLA\") sets out the availability that Quenfield "
          "Digital Ltd commits to for the Tallystack service, the Service Credits a customer "
          "receives when that commitment is missed, and how credits are claimed. It forms "
          "part of the Tallystack Subscription Agreement. Support response times are not "
          "covered here; they are set out in the Customer Support Policy (CSP-2025)."),
    ("p", "1.2 All times are Oszmere Standard Time (OST)."),

    ("h1", "2. Definitions"),
    ("bullet", [
        "\"Downtime\" means a period of at least 5 consecutive minutes during which more than "
        "10% of requests to the Tallystack web application or API fail with a server error, "
        "as measured by our external monitors in three separate regions.",
        "\"Monthly Uptime Percentage\" means the number of minutes in a calendar month, less "
        "the minutes of Downtime in that month, divided by the number of minutes in the month "
        "and multiplied by 100.",
        "\"Scheduled Maintenance\" means work announced in line with section 5. Scheduled "
        "Maintenance is not Downtime.",
        "\"Service Credit\" means an amount, worked out as a percentage of the monthly fee for "
        "the affected workspace, that we credit against future invoices when the uptime "
        "commitment is missed.",
        "\"Monthly fee\" means the subscription fee for one month; for a plan billed "
        "annually, it means one twelfth of the annual fee.",
    ]),

    ("h1", "3. Uptime commitment"),
    ("p", "3.1 For each calendar month we commit to the following Monthly Uptime Percentage:"),
    ("bullet", [
        "Starter: no commitment. We aim for 99.5%, but Starter workspaces are not eligible "
        "for Service Credits under any part of this SLA.",
        "Team: 99.5%.",
        "Business: 99.9%.",
        "Enterprise: 99.95%, or the higher figure written in the Enterprise order form.",
    ]),
    ("p", "3.2 As a guide, 99.9% in a 30-day month allows about 43 minutes of Downtime, and "
          "99.5% allows about 3 hours and 36 minutes."),

    ("h1", "4. Service Credits"),
    ("p", "4.1 If the Monthly Uptime Percentage of an eligible workspace falls below the "
          "commitment for its plan, the customer may claim a Service Credit as follows:"),
    ("bullet", [
        "Below the commitment but at least 99.0%: a credit of 10% of the monthly fee for "
        "that month.",
        "At least 95.0% but below 99.0%: a credit of 25% of the monthly fee.",
        "Below 95.0%: a credit of 50% of the monthly fee.",
    ]),
    ("p", "4.2 The Service Credits for any one month may not add up to more than 50% of the "
          "monthly fee for that month, however many incidents occurred."),
    ("p", "4.3 To claim a Service Credit, the Billing Owner must submit form SC-4 from the "
          "Billing area of the workspace, or email billing@tallystack.example, within 30 days "
          "after the end of the month in which the Downtime occurred. The claim should give "
          "the dates and times of the Downtime and any ticket numbers. Late claims are not "
          "accepted."),
    ("p", "4.4 We check every claim against our monitoring records and reply within ten "
          "business days. An approved Service Credit is applied to the next invoice."),
    ("p", "4.5 Service Credits are not paid in cash and cannot be moved to another workspace, "
          "except that a credit still unused when the subscription ends is refunded to the "
          "original payment method."),
    ("p", "4.6 Service Credits are the customer's only remedy for Downtime, except as "
          "provided in section 8."),

    ("h1", "5. Maintenance"),
    ("p", "5.1 Scheduled Maintenance takes place on Sundays between 02:00 and 05:00. We "
          "announce it at least 72 hours in advance, by email to workspace Owners and on "
          "status.tallystack.example."),
    ("p", "5.2 Scheduled Maintenance will not exceed six hours in any calendar month. "
          "Maintenance beyond six hours in a month counts as Downtime."),
    ("p", "5.3 Emergency maintenance to close a security vulnerability may be carried out with "
          "at least 2 hours' notice. It counts as Downtime if it lasts longer than 30 minutes."),

    ("h1", "6. Exclusions"),
    ("p", "6.1 The following do not count as Downtime, and no Service Credit is due for them:"),
    ("bullet", [
        "problems caused by the customer's own network, devices, internet provider or firewall "
        "settings, or by any other equipment outside our control;",
        "features labelled \"Preview\" in the app, which are offered for testing and may "
        "change or be withdrawn without notice;",
        "suspension of a workspace for non-payment or for a breach of the Acceptable Use "
        "Policy;",
        "API requests above the daily limit of the plan, and requests refused because of that "
        "limit;",
        "outages of third-party services reached through connectors, such as payment "
        "providers, carriers and marketplaces, even when Tallystack cannot send data to them;",
        "events beyond our reasonable control, including natural disasters, war, and failures "
        "of public power or telecommunications networks lasting more than 24 hours.",
    ]),

    ("h1", "7. Backups and recovery"),
    ("p", "7.1 We back up all workspace data every 6 hours. Each backup is kept for 35 days and "
          "is stored in a second data centre in the Vessaly region, at least 400 km from the "
          "primary data centre."),
    ("p", "7.2 Our recovery point objective is 6 hours and our recovery time objective is 12 "
          "hours: if the primary data centre is lost, we aim to restore service within 12 "
          "hours, losing no more than the last 6 hours of changes."),
    ("p", "7.3 Business and Enterprise customers may ask for a point-in-time restore of their "
          "own workspace, for example after an import went wrong. Two restores per calendar "
          "year are free; each further restore costs $250."),

    ("h1", "8. Chronic failure"),
    ("p", "8.1 If the Monthly Uptime Percentage of a Team, Business or Enterprise workspace is "
          "below 99.0% in three consecutive months, the customer may end the subscription by "
          "written notice given within 60 days after the end of the third month. No early "
          "termination charge applies, and we refund any fees paid in advance for the period "
          "after the end date."),

    ("h1", "9. Reporting"),
    ("p", "9.1 We publish the Monthly Uptime Percentage of the whole service on "
          "status.tallystack.example by the fifth business day of the following month."),
    ("p", "9.2 Enterprise customers also receive a quarterly service review with their "
          "Technical Account Manager, covering uptime, support tickets and planned changes."),

    ("h1", "10. Changes to this SLA"),
    ("p", "10.1 We may change this SLA by giving at least 60 days' notice by email. A change "
          "that lowers a commitment does not apply to an annual subscription until its next "
          "renewal."),
]

# --------------------------------------------------------------------------
# Hollin Vale Housing Association: repairs guide (.docx)
# --------------------------------------------------------------------------

REPAIRS = [
    ("title", "Getting Repairs Done: a guide for tenants"),
    ("meta", "Hollin Vale Housing Association, Repairs Service. Revised March 2025. "
             "Repairs Manager: Bronwen Ilesanmi."),
    ("p", "Keeping your home in good repair is a job that we share with you. This guide "
          "explains which repairs are ours and which are yours, how quickly we will come, and "
          "what you can do if we do not, and it should be read together with Part Two of the "
          "tenancy handbook."),

    ("h1", "How to report a repair"),
    ("p", "Repairs may be reported by telephone to the repairs line on 01632 960 417, which is "
          "staffed from 8:00 am to 6:00 pm, Monday to Friday, or at any time through the "
          "Tenant Portal on Form TR-12, the online repair request. When the office is closed, "
          "only emergencies should be reported to the out-of-hours line on 01632 960 888; "
          "other repairs reported there are passed to the day team on the next working day."),
    ("p", "Each repair is given a job number beginning with \"RJ\", which you should quote "
          "whenever you contact us about it. A text message is sent on the evening before an "
          "appointment, and the operative will ring you when they are about 30 minutes away."),

    ("h1", "How quickly we will come"),
    ("table", [
        ["Priority", "What it covers (examples)", "Our target"],
        ["Emergency", "Total loss of heating in winter or of water, a smell of gas, flooding, "
                      "dangerous electrics, a front door that will not lock",
         "Attend within 4 hours to make safe; complete within 24 hours where possible"],
        ["Urgent", "Partial loss of heating or hot water, a blocked toilet where there is no "
                   "other toilet, a leaking roof, a broken entry door to a block",
         "Complete within 3 working days"],
        ["Routine", "Dripping taps, sticking doors, loose floor tiles, faulty extractor fans",
         "Complete within 20 working days"],
        ["Planned", "Replacing kitchens, bathrooms, windows and boilers at the end of their life",
         "Within the programme year, with at least 28 days' notice"],
    ]),
    ("p", "In the heating season, which for this purpose runs from 1 October to 30 April, a "
          "household that includes a person aged over 75, a child under 2 or someone with a "
          "serious illness is lent two electric heaters while it waits for a heating repair."),

    ("h1", "Who looks after what"),
    ("p", "The Association is responsible for the structure and outside of your home, and for "
          "the installations that supply water, gas, electricity, sanitation and heating. You "
          "are responsible for minor items, and for putting right any damage caused by you, "
          "your household or your visitors."),
    ("table", [
        ["Item", "Repaired by the Association", "Repaired by the tenant"],
        ["Heating and hot water", "Boilers, radiators, pipes, hot water cylinders",
         "Bleeding radiators, resetting the boiler pressure"],
        ["Electrics", "Wiring, sockets, light fittings, mains-wired smoke alarms",
         "Light bulbs, fuses in plugs, batteries in battery-powered alarms"],
        ["Doors and windows", "External doors, window frames, glass broken by storms, or by "
                              "crime reported to the police with a crime number",
         "Internal doors, locks after lost keys, glass broken accidentally by the household"],
        ["Kitchen and bathroom", "Sinks, baths, toilets, worktops, tiling around the bath",
         "Toilet seats, plugs and chains, sinks blocked by food or fat"],
        ["Outside", "Roofs, gutters, the path to the front door, boundary walls",
         "Fences between neighbours' gardens, sheds, gates, keeping the garden tidy"],
    ]),

    ("h1", "Gas safety checks"),
    ("p", "By law the gas appliances in your home must be checked every year, and we will "
          "write to you with an appointment at least 21 days before the check is due, which "
          "you may change once by ringing the repairs line. If access is not given after three "
          "appointments, the Association may apply to the court for an access injunction, and "
          "the cost of the application, currently £355, will be recharged to you, unless there "
          "was a good reason, such as a stay in hospital, why you could not let us in."),

    ("h1", "Damp and mould"),
    ("p", "Reports of damp or mould are taken seriously. A surveyor will inspect within 10 "
          "working days of your report, and the work they recommend will be started within 20 "
          "working days of the inspection; where a child, or an older or vulnerable person in "
          "the home, has a breathing condition, the inspection is made within 5 working days. "
          "A dehumidifier may be lent free of charge while the cause is being put right."),

    ("h1", "Missed appointments and rechargeable repairs"),
    ("bullet", [
        "If you cannot be in for an appointment, let us know at least 24 hours before it. A "
        "second missed appointment for the same job, without notice, may be charged at £25.",
        "Repairs that are your responsibility, or that are needed because of damage by your "
        "household, may be done by us at your request and recharged to you. A quote is given "
        "before work begins, except in an emergency.",
        "Recharge invoices are payable within 28 days. If you cannot pay in one go, the Income "
        "team will agree a payment plan with you.",
    ]),

    ("h1", "If we are late: the Right to Repair"),
    ("p", "Certain small urgent repairs, such as a blocked flue, a toilet that will not flush or "
          "a loss of electric power, qualify under the Right to Repair scheme. If such a repair "
          "is not finished within its target time, you may ask for a second contractor to be "
          "sent, and if that contractor is also late you are paid compensation of £10, plus £2 "
          "for each further working day until the repair is done, up to a maximum of £50."),

    ("h1", "Adaptations"),
    ("p", "Small adaptations costing under £1,000, such as grab rails, a second banister or a "
          "lever tap, can be fitted within 30 working days without a report from an "
          "occupational therapist. Larger adaptations, such as a level-access shower or a stair "
          "lift, need an occupational therapist's assessment, which we can ask for on your "
          "behalf."),

    ("h1", "Complaints about repairs"),
    ("p", "If you are unhappy with a repair, please tell the repairs line first, so that the "
          "job can be looked at again. If that does not settle the matter, write to the "
          "Repairs Manager, Bronwen Ilesanmi, at Hollin Vale House, and your letter will be "
          "treated as a formal complaint."),
]

# --------------------------------------------------------------------------
# Hollin Vale Housing Association: rent and service charges (.pdf) -- latin-1
# --------------------------------------------------------------------------

RENT = [
    ("title", "Rent and Service Charges 2025/26"),
    ("meta", "Hollin Vale Housing Association. Income Team, Hollin Vale House, 41 Tanner's "
             "Brow, Dunmarrow DM2 8QE. Approved by the Board on 13 February 2025."),

    ("h1", "1. Your rent year"),
    ("p", "1.1 The rent year begins on the first Monday in April. For 2025/26 it runs from "
          "Monday 7 April 2025 to Sunday 5 April 2026. Rent is due weekly in advance on each "
          "Monday, although most tenants choose to pay monthly or fortnightly, and this is "
          "acceptable provided that the account is never more than one week in arrears."),
    ("p", "1.2 There are two rent-free weeks in the year, in which no rent is charged. In "
          "2025/26 they are the weeks beginning Monday 22 December 2025 and Monday 29 December "
          "2025. Tenants who are behind with their rent are asked to keep paying in these "
          "weeks, so as to reduce what they owe."),

    ("h1", "2. The rent increase for 2025/26"),
    ("p", "2.1 Rents rise by 3.4% from Monday 7 April 2025. Every tenant was sent a letter "
          "setting out the new rent no later than 7 March 2025, which is at least 28 days "
          "before the change, as the tenancy agreement requires."),
    ("p", "2.2 Average weekly rents for 2025/26, before any service charge, are:"),
    ("bullet", [
        "bedsits and one-bedroom flats: £96.40 a week;",
        "two-bedroom flats and maisonettes: £109.15 a week;",
        "two-bedroom houses: £118.75 a week;",
        "three-bedroom houses: £131.20 a week;",
        "four-bedroom houses, of which the Association has only 38, all of them on the "
        "Brackenfold estate and most of them built in the 1950s: £147.60 a week.",
    ]),
    ("p", "The exact rent for your home is shown in your rent letter and on your statement."),

    ("h1", "3. Service charges"),
    ("p", "3.1 Where you receive services that are shared with other residents, a weekly "
          "service charge is added to your rent. The charges for 2025/26 are:"),
    ("bullet", [
        "cleaning of communal stairs, landings and bin stores, charged to all flats at "
        "Saltings Court and on the Brackenfold estate: £3.85 a week;",
        "grounds maintenance, including grass cutting, shrub beds and the clearing of litter "
        "from communal green spaces: £2.10 a week;",
        "door entry system and CCTV, including repairs to the fob readers and the monitoring "
        "contract: £0.95 a week;",
        "communal lighting, for the electricity used to light stairs, car parks and paths at "
        "night: £1.40 a week;",
        "lift maintenance and the yearly insurance inspection of the lifts, charged at "
        "Saltings Court only: £2.65 a week.",
    ]),
    ("p", "3.2 Service charges are based on an estimate of the year's costs. After the end of "
          "the year we compare the estimate with what was actually spent, and if the "
          "difference for a household is more than £25, it is refunded or credited by 30 "
          "September of the following year. A smaller difference is carried forward into the "
          "next year's estimate."),

    ("h1", "4. How to pay"),
    ("bullet", [
        "Direct Debit, on the 1st, 8th, 15th or 22nd of the month, whichever suits you. A "
        "mandate can be set up over the phone or on Form DD-1.",
        "Payment card: every tenant is given an allpay card, which can be used to pay at any "
        "Post Office or at any shop showing the PayPoint sign.",
        "Bank transfer or standing order, quoting your tenancy reference, which is HV- "
        "followed by five digits and a two-letter estate code, for example HV-20417-BF.",
        "Online through the Tenant Portal, or by phone on 01632 960 220 with a debit card.",
    ]),
    ("p", "4.1 Cash is no longer accepted at Hollin Vale House, and has not been since "
          "1 October 2023."),

    ("h1", "5. If you fall behind with your rent"),
    ("p", "5.1 We would always rather help you sort out a problem early than take action "
          "later, and an Income Officer can help you claim benefits, apply to the Hardship "
          "Fund or find free debt advice. The steps we follow are:"),
    ("num", [
        "Stage 1. When the arrears reach the equivalent of one week's rent, we send a reminder "
        "letter and try to contact you by phone within 5 working days.",
        "Stage 2. When the arrears reach two weeks' rent, an Income Officer visits you at home "
        "and offers a repayment agreement. The least we accept under an agreement is £3.50 a "
        "week on top of the rent, unless your income is very low, in which case a lower "
        "amount can be agreed.",
        "Stage 3. If the arrears reach four weeks' rent, or an agreement is broken twice, we "
        "may serve a Notice of Seeking Possession. The notice stays in force for 12 months.",
        "Stage 4. Only if all the above has failed, and only with the approval of the Income "
        "Manager, Perpetua Gaskin, do we apply to the county court for a possession order.",
    ]),
    ("p", "5.2 We will not apply to the court while you are keeping to a repayment agreement, "
          "or while a benefit claim that would clear the arrears is being decided. Under our "
          "winter pledge, no tenant is evicted for rent arrears between 15 December and "
          "15 January."),

    ("h1", "6. The Hardship Fund"),
    ("p", "6.1 Tenants facing a short-term crisis, such as a sudden loss of work or a large "
          "unexpected bill, may apply to the Hardship Fund on Form HF-2. The fund can pay up "
          "to £400 per household in any rent year, either towards rent arrears or to buy "
          "essential items such as a cooker or a bed. A decision is made within 10 working "
          "days. Applications to the 2025/26 fund close on Friday 27 February 2026."),

    ("h1", "7. Housing Benefit and Universal Credit"),
    ("p", "7.1 If you claim help with your housing costs, you must tell the benefit office of "
          "any change in your household or income, and tell us within 7 days if your benefit "
          "changes or stops. Where Universal Credit is paid to you, it is your responsibility "
          "to pass the housing element on to us."),

    ("h1", "8. Statements and refunds"),
    ("p", "8.1 Rent statements are posted four times a year, in April, July, October and "
          "January, and you can see your account at any time on the Tenant Portal."),
    ("p", "8.2 If your account is in credit by more than £50, you may ask for the credit to be "
          "refunded, and it will be paid within 15 working days, unless you owe money on "
          "another account with us, such as a recharge for a repair, in which case the credit "
          "is used to clear that first."),
]

TALLYSTACK = "Quenfield Digital Ltd"
HOLLIN_VALE = "Hollin Vale Housing Association"
DOCUMENTS = [
    Document(CORPORA_DIR / "tallystack-support" / "refunds-and-cancellation.docx",
             "Billing, Refunds and Cancellation", TALLYSTACK, REFUNDS),
    Document(CORPORA_DIR / "tallystack-support" / "service-level-agreement.pdf",
             "Tallystack Service Level Agreement", TALLYSTACK, SLA),
    Document(CORPORA_DIR / "hollinvale-housing" / "repairs-guide.docx",
             "Getting Repairs Done", HOLLIN_VALE, REPAIRS),
    Document(CORPORA_DIR / "hollinvale-housing" / "rent-and-service-charges.pdf",
             "Rent and Service Charges 2025/26", HOLLIN_VALE, RENT),
]


# --------------------------------------------------------------------------
# Writers (the block renderers are shared with scripts/build_samples.py)
# --------------------------------------------------------------------------

def write_docx(document: Document) -> None:
    import docx

    doc = docx.Document()
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = document.title, document.author, document.author
    props.comments = "Fictional document generated by bench/corpora/build.py."
    props.revision = 1
    props.created = props.modified = props.last_printed = FIXED_DATE.replace(tzinfo=None)
    write_docx_blocks(doc, document.blocks)
    buf = io.BytesIO()
    doc.save(buf)
    document.path.write_bytes(_normalise_zip(buf.getvalue()))


def write_pdf(document: Document) -> None:
    pdf = new_pdf(f"{document.author} - {document.title}", FIXED_DATE, "bench/corpora/build.py")
    pdf.set_author(document.author)
    pdf.set_title(document.title)
    pdf.set_margins(22, 18, 22)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    write_pdf_blocks(pdf, document.blocks)
    pdf.output(str(document.path))


# --------------------------------------------------------------------------
# Checks and entry point
# --------------------------------------------------------------------------

def extracted_words(path: Path) -> int:
    """Words a reader gets back from a built file (PDF: every page must have text)."""
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        pages = [page.extract_text() or "" for page in PdfReader(str(path)).pages]
        if len(pages) < 2 or not all(len(text.split()) > 40 for text in pages):
            raise SystemExit(f"{path.name}: expected 2+ pages, each with text")
        return sum(len(text.split()) for text in pages)
    import docx

    doc = docx.Document(str(path))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return sum(len(text.split()) for text in [p.text for p in doc.paragraphs] + cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check that each built file extracts")
    args = parser.parse_args(argv)
    for document in DOCUMENTS:
        (write_pdf if document.path.suffix == ".pdf" else write_docx)(document)
        note = f" ({extracted_words(document.path)} words extracted)" if args.check else ""
        print(f"wrote {document.path.relative_to(REPO_ROOT)}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
